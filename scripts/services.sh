#!/usr/bin/env bash
# Makes PostgreSQL and Redis reachable for the CRM and writes their URLs to var/services.env.
#   scripts/services.sh up      use DATABASE_URL / REDIS_URL when set; else a server on localhost
#                               (5432 / 6379) with the default credentials; else a project-local
#                               one under var/ (installing Debian's packages when root)
#   scripts/services.sh down    stop the project-local servers, if any run
# CRM_LOCAL_SERVICES=1 skips the localhost probe and always uses the project-local servers.
set -euo pipefail
cd "$(dirname "$0")/.."

ROOT=$PWD
VAR=$ROOT/var
PY=${PY:-$ROOT/.venv/bin/python}
PG_PORT=${CRM_LOCAL_PG_PORT:-54329}
REDIS_PORT=${CRM_LOCAL_REDIS_PORT:-63799}
PG_DIR=$VAR/postgres
REDIS_DIR=$VAR/redis
DB_NAME=${CRM_DB_NAME:-crm}

say() { printf '\033[1m[services]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[services]\033[0m %s\n' "$*" >&2; exit 1; }

pg_reachable() {  # pg_reachable URL
    "$PY" - "$1" <<'PY' 2>/dev/null
import sys
import psycopg2
psycopg2.connect(sys.argv[1], connect_timeout=3).close()
PY
}

pg_ensure_database() {  # pg_ensure_database ADMIN_URL NAME
    "$PY" - "$1" "$2" <<'PY'
import sys
import psycopg2
from psycopg2 import sql
conn = psycopg2.connect(sys.argv[1], connect_timeout=5)
conn.autocommit = True
with conn.cursor() as cur:
    cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [sys.argv[2]])
    if cur.fetchone() is None:
        cur.execute(sql.SQL("CREATE DATABASE {} ENCODING 'UTF8' TEMPLATE template0").format(sql.Identifier(sys.argv[2])))
conn.close()
PY
}

redis_reachable() {  # redis_reachable URL
    "$PY" - "$1" <<'PY' 2>/dev/null
import sys
import redis
sys.exit(0 if redis.Redis.from_url(sys.argv[1], socket_connect_timeout=2).ping() else 1)
PY
}

apt_install() {
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        die "No $1 server is reachable and none can be started here. Either set $2 to a running server, or install the Debian/Ubuntu package ('sudo apt-get install -y $3') and run make again."
    fi
    say "installing $3 (apt-get)"
    apt-get update -qq
    # policy-rc.d 101: install the binaries without starting the distribution's own service.
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$3" >/dev/null || {
        rm -f /usr/sbin/policy-rc.d; die "apt-get install $3 failed."; }
    rm -f /usr/sbin/policy-rc.d
}

pg_bindir() {
    local dir
    if command -v pg_config >/dev/null && [[ -x "$(pg_config --bindir)/initdb" ]]; then
        pg_config --bindir; return 0
    fi
    for dir in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
        [[ -x "$dir/initdb" ]] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null && { dirname "$(readlink -f "$(command -v initdb)")"; return 0; }
    return 1
}

# PostgreSQL refuses to run as root: as root, the cluster belongs to the "postgres" user.
as_pg_user() {
    if [[ $(id -u) -eq 0 ]]; then
        id postgres >/dev/null 2>&1 || useradd --system --home-dir "$PG_DIR" --shell /usr/sbin/nologin postgres
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

local_pg_up() {
    local bin
    local_used=1
    bin=$(pg_bindir) || { apt_install PostgreSQL DATABASE_URL postgresql; bin=$(pg_bindir) || die "initdb not found after installing postgresql."; }
    mkdir -p "$PG_DIR"
    if [[ $(id -u) -eq 0 ]]; then
        as_pg_user true
        chown postgres "$PG_DIR"
        if ! runuser -u postgres -- test -w "$PG_DIR"; then
            # The checkout is in a folder the postgres user cannot enter (e.g. under /root):
            # keep the cluster in a folder of its own and point var/postgres at it.
            local home
            home=/var/lib/crm-postgres/$(echo "$ROOT" | sha256sum | cut -c1-12)
            mkdir -p "$home" && chown postgres "$home"
            rmdir "$PG_DIR" 2>/dev/null || true
            [[ -L "$PG_DIR" ]] || ln -s "$home" "$PG_DIR"
            chmod o+x "$ROOT" "$VAR" 2>/dev/null || true
        fi
    fi
    mkdir -p "$PG_DIR/run"
    [[ $(id -u) -eq 0 ]] && chown -R postgres "$PG_DIR/"
    if [[ ! -f "$PG_DIR/data/PG_VERSION" ]]; then
        say "initdb $PG_DIR/data"
        as_pg_user "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >"$PG_DIR/initdb.log" 2>&1 \
            || as_pg_user "$bin/initdb" -D "$PG_DIR/data" -U postgres --auth=trust -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
            || die "initdb failed; see $PG_DIR/initdb.log"
    fi
    if ! as_pg_user "$bin/pg_ctl" -D "$PG_DIR/data" status >/dev/null 2>&1; then
        say "starting project-local PostgreSQL on 127.0.0.1:$PG_PORT"
        as_pg_user "$bin/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/postgres.log" -w -t 60 \
            -o "-p $PG_PORT -k $PG_DIR/run -c listen_addresses=127.0.0.1" start >/dev/null \
            || die "PostgreSQL did not start; see $PG_DIR/postgres.log"
    fi
    echo "$bin" > "$PG_DIR/bindir"
    DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/$DB_NAME"
    pg_ensure_database "postgres://postgres@127.0.0.1:$PG_PORT/postgres" "$DB_NAME"
}

local_redis_up() {
    local_used=1
    command -v redis-server >/dev/null || apt_install Redis REDIS_URL redis-server
    mkdir -p "$REDIS_DIR"
    REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
    if ! redis_reachable "$REDIS_URL"; then
        say "starting project-local Redis on 127.0.0.1:$REDIS_PORT"
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --pidfile "$REDIS_DIR/redis.pid" \
            --dir "$REDIS_DIR" --logfile "$REDIS_DIR/redis.log" --save "" --appendonly no >/dev/null
        for _ in $(seq 50); do redis_reachable "$REDIS_URL" && break; sleep 0.1; done
        redis_reachable "$REDIS_URL" || die "Redis did not start; see $REDIS_DIR/redis.log"
    fi
}

up() {
    [[ -x "$PY" ]] || die "$PY is missing: run scripts/bootstrap.sh first."
    mkdir -p "$VAR/staticfiles"
    local local_only=${CRM_LOCAL_SERVICES:-0}
    local_used=0
    if [[ -n "${DATABASE_URL:-}" ]]; then
        pg_reachable "$DATABASE_URL" || die "DATABASE_URL is set but PostgreSQL does not answer there."
        say "PostgreSQL: using DATABASE_URL"
    elif [[ "$local_only" != 1 ]] && pg_reachable "postgres://postgres@127.0.0.1:5432/postgres"; then
        pg_ensure_database "postgres://postgres@127.0.0.1:5432/postgres" "$DB_NAME"
        DATABASE_URL="postgres://postgres@127.0.0.1:5432/$DB_NAME"
        say "PostgreSQL: using the server on 127.0.0.1:5432"
    else
        local_pg_up
    fi
    if [[ -n "${REDIS_URL:-}" ]]; then
        redis_reachable "$REDIS_URL" || die "REDIS_URL is set but Redis does not answer there."
        say "Redis: using REDIS_URL"
    elif [[ "$local_only" != 1 ]] && redis_reachable "redis://127.0.0.1:6379/0"; then
        REDIS_URL="redis://127.0.0.1:6379/0"
        say "Redis: using the server on 127.0.0.1:6379"
    else
        local_redis_up
    fi
    umask 077
    printf 'DATABASE_URL=%s\nREDIS_URL=%s\nCRM_LOCAL_SERVICES_USED=%s\n' \
        "$DATABASE_URL" "$REDIS_URL" "$local_used" > "$VAR/services.env"
}

down() {
    if [[ -f "$PG_DIR/data/postmaster.pid" ]]; then
        say "stopping project-local PostgreSQL"
        as_pg_user "$(cat "$PG_DIR/bindir")/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null || true
    fi
    if [[ -f "$REDIS_DIR/redis.pid" ]]; then
        say "stopping project-local Redis"
        kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$(cat "$REDIS_DIR/redis.pid" 2>/dev/null)" 2>/dev/null || break; sleep 0.1; done
        rm -f "$REDIS_DIR/redis.pid"
    fi
}

case "${1:-}" in
    up) up ;;
    down) down ;;
    *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
