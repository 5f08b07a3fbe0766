#!/usr/bin/env bash
# Installs what the CRM needs from the system (Debian/Ubuntu), then the Python virtualenv.
#   scripts/bootstrap.sh [--browser]    --browser: also Chromium, for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
want_browser=false
[[ "${1:-}" == "--browser" ]] && want_browser=true

say() { printf '\033[1m[setup]\033[0m %s\n' "$*"; }
die() { printf '\033[1;31m[setup]\033[0m %s\n' "$*" >&2; exit 1; }

apt_updated=false
apt_install() {
    # apt_install PACKAGE... : installs Debian packages when we are root, else explains what to run.
    if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
        die "Missing system packages: $*. Install them (e.g. 'sudo apt-get install -y $*') and run make again."
    fi
    if ! $apt_updated; then
        say "apt-get update"
        apt-get update -qq
        apt_updated=true
    fi
    say "apt-get install $*"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

command -v "$PYTHON" >/dev/null || die "python3 is required (Debian/Ubuntu: apt-get install python3)."
"$PYTHON" - <<'PY' || die "Python 3.11 or newer is required."
import sys
sys.exit(0 if sys.version_info >= (3, 11) else 1)
PY

missing=()
"$PYTHON" -c "import venv, ensurepip" 2>/dev/null || missing+=("python3-venv")
command -v msgfmt >/dev/null || missing+=("gettext")
if $want_browser && [[ ! -x /usr/bin/chromium ]]; then
    missing+=("chromium" "fonts-noto-core")
fi
if ((${#missing[@]})); then
    apt_install "${missing[@]}"
fi

if [[ ! -x "$VENV/bin/python" ]]; then
    say "creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
stamp="$VENV/.requirements.sha256"
digest=$(cat requirements.txt requirements-dev.txt | sha256sum | cut -d' ' -f1)
if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$digest" ]]; then
    say "installing requirements-dev.txt into $VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
    echo "$digest" > "$stamp"
fi
