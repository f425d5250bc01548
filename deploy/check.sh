#!/usr/bin/env bash
# Offline validation of deploy/ (no image build, no cluster): yamllint over every YAML file,
# each kustomize overlay rendered by `kubectl kustomize` and validated against the Kubernetes
# schemas (kubernetes-validate --strict), then deploy/check.py: rendered manifests, the
# dashboard's and alerts' queries against a real /metrics scrape after the HTTP journey
# (parsed with prometheus-client), Kong, Terraform (python-hcl2), compose, and the Dockerfile's
# build steps against the README's. Python tools live in a cached venv, reused when current.
set -euo pipefail
cd "$(dirname "$0")/.."

# Python tools from the repository's cached tool venv (scripts/tool-venv.sh).
py=$(bash scripts/tool-venv.sh deploy-check kubernetes_validate,yamllint,hcl2,prometheus_client \
  kubernetes-validate==1.37.0 yamllint==1.38.0 python-hcl2==8.1.4 prometheus-client==0.26.0)
venv=$(dirname "$(dirname "$py")")

echo "== yamllint deploy/"
"$venv/bin/yamllint" -s -c deploy/.yamllint deploy/

command -v kubectl >/dev/null 2>&1 || {
  echo "deploy check: installing Debian's kubectl"
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq kubectl) >/dev/null
}
out=$(mktemp -d /tmp/bankflow-deploy-check.XXXXXX)
trap 'rm -rf "$out"' EXIT
for overlay in dev staging prod; do
  echo "== kubectl kustomize deploy/k8s/overlays/$overlay | kubernetes-validate --strict"
  kubectl kustomize "deploy/k8s/overlays/$overlay" >"$out/$overlay.yaml"
  "$venv/bin/kubernetes-validate" --strict --quiet "$out/$overlay.yaml"
done

echo "== the HTTP journey against the bankflow binary, then /metrics"
cargo build -q -p bankflow-http --bin bankflow
"${CARGO_TARGET_DIR:-target}/debug/bankflow" serve --help >"$out/serve-help.txt"
BANKFLOW_METRICS_SCRAPE_OUT="$out/metrics.txt" \
  cargo test -q -p bankflow-http --test ops a_journey_logs_no_secrets_and_traces_a_transfer
[ -s "$out/metrics.txt" ] || { echo "deploy check: the journey wrote no scrape"; exit 1; }

echo "== deploy/check.py"
"$venv/bin/python" deploy/check.py "$out" "$out/metrics.txt"
