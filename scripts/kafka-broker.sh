#!/usr/bin/env bash
# A real Kafka-protocol broker for the Kafka relay's tests: tansu (crates.io), built once into
# the cached tools dir with its SQLite storage engine, so a killed broker restarts with every
# record it had acknowledged (the memory engine would lose them, defeating the restart test).
#
#   kafka-broker.sh install            build tansu $TANSU_VERSION if that version is not cached
#   kafka-broker.sh start DIR PORT     start a broker on 127.0.0.1:PORT storing in DIR; waits
#                                      until it accepts connections, else fails (prints its log)
#   kafka-broker.sh kill DIR           SIGKILL the broker started in DIR (a crash, no shutdown)
#   kafka-broker.sh stop DIR           SIGTERM it and wait
#
# Fails loudly (non-zero) whenever the broker cannot be installed or started: a test that needs
# it must fail, never skip.
set -euo pipefail

TANSU_VERSION="${TANSU_VERSION:-0.6.0}"
TANSU_FEATURES="libsql"
tools="${BANKFLOW_TOOLS_DIR:-$HOME/.cache/bankflow-tools}"
bin="$tools/bin/tansu"
stamp="$tools/tansu.stamp"
# Longest a start may take before we call it failed.
START_TIMEOUT_S="${TANSU_START_TIMEOUT_S:-60}"

installed() {
  [ -x "$bin" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$TANSU_VERSION $TANSU_FEATURES" ]
}

install() {
  if installed; then
    return 0
  fi
  mkdir -p "$tools"
  echo "kafka-broker: building tansu $TANSU_VERSION (features: $TANSU_FEATURES) into $tools (about 10 minutes, once)" >&2
  local t0
  t0=$(date +%s)
  cargo install tansu --version "$TANSU_VERSION" --locked --features "$TANSU_FEATURES" --root "$tools" --force >&2
  echo "$TANSU_VERSION $TANSU_FEATURES" >"$stamp"
  echo "kafka-broker: tansu built in $(( $(date +%s) - t0 ))s" >&2
}

port_open() {
  python3 - "$1" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(0.5)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
except OSError:
    sys.exit(1)
PY
}

start() {
  local dir="$1" port="$2"
  install
  mkdir -p "$dir"
  if port_open "$port"; then
    echo "kafka-broker: port $port is already in use" >&2
    return 1
  fi
  # tansu resolves sqlite:// paths against its working directory.
  (
    cd "$dir"
    exec "$bin" broker \
      --listener-url "tcp://127.0.0.1:$port" \
      --advertised-listener-url "tcp://127.0.0.1:$port" \
      --storage-engine "sqlite://tansu.db" \
      </dev/null >>"$dir/tansu.log" 2>&1
  ) &
  echo $! >"$dir/tansu.pid"
  local waited=0
  until port_open "$port"; do
    if ! kill -0 "$(cat "$dir/tansu.pid")" 2>/dev/null; then
      echo "kafka-broker: tansu exited during start; its log:" >&2
      tail -40 "$dir/tansu.log" >&2
      return 1
    fi
    if [ "$waited" -ge $(( START_TIMEOUT_S * 5 )) ]; then
      echo "kafka-broker: tansu did not listen on $port within ${START_TIMEOUT_S}s; its log:" >&2
      tail -40 "$dir/tansu.log" >&2
      return 1
    fi
    sleep 0.2
    waited=$(( waited + 1 ))
  done
  echo "kafka-broker: tansu pid $(cat "$dir/tansu.pid") on 127.0.0.1:$port" >&2
}

signal() {
  local dir="$1" sig="$2" pid
  pid=$(cat "$dir/tansu.pid" 2>/dev/null) || return 0
  kill "-$sig" "$pid" 2>/dev/null || true
  # Wait until it is gone, so a restart on the same port can bind.
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  rm -f "$dir/tansu.pid"
}

case "${1:-}" in
  install) install ;;
  start) [ $# -eq 3 ] || { echo "usage: $0 start DIR PORT" >&2; exit 2; }; start "$2" "$3" ;;
  kill) [ $# -eq 2 ] || { echo "usage: $0 kill DIR" >&2; exit 2; }; signal "$2" KILL ;;
  stop) [ $# -eq 2 ] || { echo "usage: $0 stop DIR" >&2; exit 2; }; signal "$2" TERM ;;
  *) echo "usage: $0 install | start DIR PORT | kill DIR | stop DIR" >&2; exit 2 ;;
esac
