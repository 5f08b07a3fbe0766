#!/usr/bin/env bash
# `make run`: migrate, load the demo data on first run, then serve the CRM with one Celery
# worker and Celery beat. Ctrl-C stops all three, and the project-local servers if this run
# started them.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=.venv/bin/python
HOST=${CRM_HOST:-127.0.0.1}
PORT=${CRM_PORT:-8000}
export DJANGO_DEBUG=${DJANGO_DEBUG:-true}
set -a; . var/services.env; set +a

say() { printf '\033[1m[run]\033[0m %s\n' "$*"; }

pids=()
stopped=false
stop_all() {
    $stopped && return
    stopped=true
    trap - INT TERM EXIT
    say "stopping web server, worker and beat"
    for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 100); do kill -0 -- "-$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL -- "-$pid" 2>/dev/null || true
    done
    if [[ "${CRM_LOCAL_SERVICES_USED:-0}" == 1 ]]; then
        scripts/services.sh down
    fi
    say "stopped"
}
trap stop_all INT TERM EXIT

$PY manage.py migrate --no-input -v 0
$PY manage.py seed_demo --if-empty
$PY manage.py setup_periodic_tasks

mkdir -p var/log
# Each process runs in a session of its own, so that stopping it stops its children too.
setsid $PY manage.py runserver "$HOST:$PORT" --noreload > >(sed -u 's/^/[web]    /') 2>&1 &
pids+=($!)
setsid .venv/bin/celery -A crm worker --loglevel=INFO --concurrency=2 --hostname="worker@%h" \
    > >(sed -u 's/^/[worker] /') 2>&1 &
pids+=($!)
setsid .venv/bin/celery -A crm beat --loglevel=INFO --pidfile=var/celerybeat.pid \
    > >(sed -u 's/^/[beat]   /') 2>&1 &
pids+=($!)

say "The CRM runs at http://$HOST:$PORT/  (admin: http://$HOST:$PORT/admin/)"
say "Demo logins: admin / demo-admin-2026, meera / demo-manager-2026 (manager), arjun and priya / demo-rep-2026 (reps)"
say "Press Ctrl-C to stop."
wait -n "${pids[@]}" || true
