#!/usr/bin/env bash
# Development run (`make run`): migrate, load the demo county on first run, then start the
# scheduler and the web server on http://127.0.0.1:${PORT:-5000}. Ctrl-C stops both; so does
# either of them exiting (a web server without its scheduler would raise no missed check-ins).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
PORT=${PORT:-5000}
# `flask demo load` prints the address from it.
export PORT FLASK_APP=wsgi

"$BIN/flask" db upgrade
"$BIN/flask" demo load --if-empty

pids=()
stop() {
  trap - EXIT INT TERM
  if ((${#pids[@]})); then
    kill "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
}
trap stop EXIT
trap 'stop; exit 130' INT
trap 'stop; exit 143' TERM

# Background children of a script ignore Ctrl-C (SIGINT); the traps above stop them with SIGTERM.
"$BIN/flask" scheduler run &
pids+=($!)
"$BIN/flask" run --host 127.0.0.1 --port "$PORT" &
pids+=($!)
echo "web: http://127.0.0.1:$PORT   scheduler pid ${pids[0]}, web pid ${pids[1]}   (Ctrl-C stops both)"
wait -n
