#!/usr/bin/env python3
"""Offline checks of everything under deploy/ (run by deploy/check.sh, which installs the tools).

usage: check.py RENDERED_DIR SCRAPE_FILE

RENDERED_DIR holds `kubectl kustomize` output per overlay (already schema-validated by
kubernetes-validate); SCRAPE_FILE is /metrics of a server after the HTTP journey, with
SCRAPE_FILE.awaiting listing the metrics whose recording point is in the engine (not yet wired).
Every file under deploy/ must be covered by some check here or in check.sh.
"""
import json
import pathlib
import re
import sys

import hcl2
import yaml
from prometheus_client.parser import text_string_to_metric_families

DEPLOY = pathlib.Path(__file__).resolve().parent
ROOT = DEPLOY.parent
covered = set()
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


def cover(path):
    covered.add(pathlib.Path(path).resolve())
    return pathlib.Path(path)


def load_yaml(path):
    return yaml.safe_load(cover(path).read_text())


# --- Kubernetes: rendered overlays -------------------------------------------------------
REQUIRED_KINDS = {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "HorizontalPodAutoscaler",
                  "NetworkPolicy", "Job", "ServiceAccount"}


def check_overlay(name, rendered):
    docs = [d for d in yaml.safe_load_all(rendered.read_text()) if d]
    kinds = {d["kind"] for d in docs}
    check(REQUIRED_KINDS <= kinds, f"{name}: kinds missing: {REQUIRED_KINDS - kinds}")
    dep = next(d for d in docs if d["kind"] == "Deployment")
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    check(c["readinessProbe"]["httpGet"]["path"] == "/readyz", f"{name}: readiness probe is not /readyz")
    check(c["livenessProbe"]["httpGet"]["path"] == "/healthz", f"{name}: liveness probe is not /healthz")
    check(c["securityContext"].get("readOnlyRootFilesystem") is True, f"{name}: root fs not read-only")
    check(pod["securityContext"].get("runAsNonRoot") is True, f"{name}: may run as root")
    check("limits" in c["resources"] and "requests" in c["resources"], f"{name}: resources unset")
    for d in docs:
        for ref in re.findall(r"'secretKeyRef': \{[^}]*'name': '([^']+)'", str(d)):
            check(ref == "bankflow-secrets", f"{name}: unexpected secret {ref}")
    sel = dep["spec"]["selector"]["matchLabels"]
    for kind, path in [("PodDisruptionBudget", ("selector", "matchLabels")), ("NetworkPolicy", ("podSelector", "matchLabels"))]:
        d = next(x for x in docs if x["kind"] == kind)
        check(d["spec"][path[0]][path[1]] == sel, f"{name}: {kind} does not select the Deployment's pods")
    cm = next(d for d in docs if d["kind"] == "ConfigMap")
    return cm["data"]["bankflow.toml"]


def check_kubernetes(rendered_dir):
    for f in (DEPLOY / "k8s").rglob("*.yaml"):
        cover(f)  # rendered by kubectl kustomize and validated in check.sh
    for overlay in ("dev", "staging", "prod"):
        toml_text = check_overlay(overlay, pathlib.Path(rendered_dir) / f"{overlay}.yaml")
        for key in re.findall(r"^(\w+)\s*=", toml_text, re.M):
            check(key in SERVE_KEYS, f"{overlay}: ConfigMap bankflow.toml key {key} is no `bankflow serve` flag")


# --- Metrics named by the dashboard and the alerts ----------------------------------------
EXTERNAL_METRICS = {"kube_deployment_status_replicas_available", "kube_deployment_spec_replicas"}
PROMQL_WORDS = {"sum", "rate", "by", "le", "histogram_quantile", "max", "clamp_min", "absent", "and", "increase",
                "route", "use_case", "store", "status", "currency", "channel", "outcome", "job", "deployment",
                "status_class", "without", "or", "on", "m", "h", "e"}


def metric_names(expr):
    expr = re.sub(r"\{[^}]*\}", "", expr)  # label matchers
    expr = re.sub(r"\[[^\]]*\]", "", expr)  # ranges
    return {w for w in re.findall(r"[a-zA-Z_:][a-zA-Z0-9_:]*", expr) if w not in PROMQL_WORDS}


def check_metrics(scrape_file):
    text = pathlib.Path(scrape_file).read_text()
    awaiting = set(pathlib.Path(scrape_file + ".awaiting").read_text().split())
    families = list(text_string_to_metric_families(text))
    exported = {f.name for f in families} | {s.name for f in families for s in f.samples}
    for a in list(awaiting):
        awaiting |= {a + "_bucket", a + "_count", a + "_sum"}
    # The journey's routes have non-zero latency histograms.
    hist = next(f for f in families if f.name == "bankflow_http_request_duration_seconds")
    check(hist.type == "histogram", "request latency is not a histogram")
    counts = {}
    for s in hist.samples:
        if s.name.endswith("_count"):
            counts[s.labels["route"]] = counts.get(s.labels["route"], 0) + s.value
    for route in ("/api/v1/auth/login", "/api/v1/customers", "/api/v1/accounts", "/api/v1/transactions/deposit",
                  "/api/v1/transactions/transfer"):
        check(counts.get(route, 0) > 0, f"no requests counted for {route}")

    dash = json.loads(cover(DEPLOY / "grafana/bankflow-dashboard.json").read_text())
    exprs = [t["expr"] for p in dash["panels"] for t in p.get("targets", [])]
    check(len(exprs) >= 10, "dashboard has too few queries")
    rules = load_yaml(DEPLOY / "prometheus/alerts.yaml")
    alerts = [r for g in rules["groups"] for r in g["rules"]]
    names = {r["alert"] for r in alerts}
    for need in ("BankflowHighErrorRate", "BankflowHighP99Latency", "BankflowOutboxLag", "BankflowNotReady"):
        check(need in names, f"alert {need} missing")
    for expr in exprs + [r["expr"] for r in alerts]:
        for m in metric_names(expr):
            ok = m in exported or m in awaiting or m in EXTERNAL_METRICS
            check(ok, f"query names {m}, which the server does not export: {expr.strip()[:80]}")
    prom = load_yaml(DEPLOY / "prometheus/prometheus.yml")
    check(prom["rule_files"] == ["/etc/prometheus/alerts.yaml"], "prometheus.yml does not load the alerts")
    for f in (DEPLOY / "grafana/provisioning").rglob("*.yaml"):
        check("apiVersion" in load_yaml(f), f"{f}: not a Grafana provisioning file")


# --- Kong --------------------------------------------------------------------------------
def check_kong():
    k = load_yaml(DEPLOY / "kong/kong.yaml")
    check(k["_format_version"] == "3.0", "kong: format version")
    plugins = {p["name"]: p for p in k["plugins"]}
    check(plugins.get("rate-limiting", {}).get("config", {}).get("minute") == 100, "kong: rate limit is not 100/min")
    for p in ("cors", "correlation-id"):
        check(p in plugins, f"kong: {p} plugin missing")
    check(any(p.endswith("-log") for p in plugins), "kong: no logging plugin")
    routes = {r["name"]: r for s in k["services"] for r in s["routes"]}
    api = routes.get("bankflow-api", {})
    check(any(p["name"] == "jwt" for p in api.get("plugins", [])), "kong: the API route is not behind jwt")
    check(k["consumers"][0]["jwt_secrets"][0]["secret"].startswith("{vault://"), "kong: a JWT secret is inline")


# --- Terraform ---------------------------------------------------------------------------
def check_terraform():
    resources, declared, text = set(), set(), ""
    for f in sorted((DEPLOY / "terraform").glob("*.tf")):
        with cover(f).open() as fh:
            doc = hcl2.load(fh)
        text += f.read_text()
        # python-hcl2 8 keeps the labels' quotes.
        for block in doc.get("resource", []):
            resources |= {k.strip('"') for k in block}
        for block in doc.get("variable", []):
            declared |= {k.strip('"') for k in block}
    for r in ("aws_eks_cluster", "aws_db_instance", "aws_msk_cluster", "aws_s3_bucket"):
        check(r in resources, f"terraform: no {r}")
    used = set(re.findall(r"\bvar\.([a-z_]+)", text))
    check(used <= declared, f"terraform: undeclared variables {used - declared}")


# --- compose, Dockerfile vs README -------------------------------------------------------
def check_compose():
    c = load_yaml(DEPLOY / "compose.yaml")
    services = c["services"]
    for s in ("bankflow", "postgres", "redpanda", "prometheus", "grafana"):
        check(s in services, f"compose: no {s}")
    b = services["bankflow"]
    check(b.get("read_only") is True, "compose: bankflow root fs writable")
    check((ROOT / b["build"]["dockerfile"]).is_file(), "compose: Dockerfile path")
    for s in services.values():
        for v in s.get("volumes", []):
            src = v.split(":")[0]
            if src.startswith("./"):
                check((DEPLOY / src).exists(), f"compose: mounts missing {src}")


def run_commands(dockerfile):
    cmds = []
    for line in dockerfile.splitlines():
        m = re.match(r"RUN\s+((?:npm|cargo)\s.*)$", line.strip())
        if m:
            cmds.append(m.group(1).strip())
    return cmds


def check_dockerfile():
    d = cover(DEPLOY / "Dockerfile").read_text()
    readme = (ROOT / "README.md").read_text()
    m = re.search(r"<!-- build-commands:start -->\s*```sh\n(.*?)```\s*<!-- build-commands:end -->", readme, re.S)
    check(m is not None, "README: no build-commands block")
    if m:
        readme_cmds = [l.strip() for l in m.group(1).splitlines() if l.strip() and not l.strip().startswith("#")]
        check(readme_cmds == run_commands(d), f"Dockerfile build steps {run_commands(d)} are not the README's {readme_cmds}")
    stages = d.split("\nFROM ")
    final = stages[-1]
    user = re.findall(r"^USER\s+(\S+)", final, re.M)
    check(user and not user[-1].startswith(("root", "0")), "Dockerfile: final stage runs as root")
    check(len(stages) >= 3, "Dockerfile: not multi-stage")
    check("frontend/dist" in final, "Dockerfile: web app not in the image")


SERVE_KEYS = set()


def main():
    rendered_dir, scrape_file = sys.argv[1], sys.argv[2]
    help_text = pathlib.Path(rendered_dir, "serve-help.txt").read_text()
    SERVE_KEYS.update(k.replace("-", "_") for k in re.findall(r"--([a-z][a-z0-9-]+)", help_text))
    check_kubernetes(rendered_dir)
    check_metrics(scrape_file)
    check_kong()
    check_terraform()
    check_compose()
    check_dockerfile()
    for f in (DEPLOY / ".yamllint", DEPLOY / "check.sh", DEPLOY / "check.py"):
        cover(f)  # yamllint's settings, and this checker itself
    unchecked = [str(p.relative_to(DEPLOY)) for p in DEPLOY.rglob("*") if p.is_file() and p.resolve() not in covered]
    check(not unchecked, f"files under deploy/ no check covers: {unchecked}")
    for f in failures:
        print(f"deploy check: {f}", file=sys.stderr)
    if failures:
        sys.exit(1)
    print(f"deploy check: {len(covered)} files checked")


if __name__ == "__main__":
    main()
