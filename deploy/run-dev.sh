#!/usr/bin/env bash
# Development run: migrate, load the demo county on first run, then the scheduler in the
# background and the web server in the foreground on http://127.0.0.1:5000. Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
export FLASK_APP=wsgi
"$BIN/flask" db upgrade
"$BIN/flask" demo load --if-empty
"$BIN/flask" scheduler run &
scheduler=$!
trap 'kill $scheduler 2>/dev/null || true' EXIT INT TERM
echo "web: http://127.0.0.1:5000  (scheduler pid $scheduler)"
"$BIN/flask" run --host 127.0.0.1 --port "${PORT:-5000}"
