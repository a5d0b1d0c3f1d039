#!/usr/bin/env bash
# The two commands of the README. Each does all set-up on a fresh machine, idempotently:
#   ./dev.sh test  [pytest args]   lint, type-check, check the layers and run every test (unit + real containers)
#   ./dev.sh drill [drill run args] run the default drill suite on the local Docker engine
set -euo pipefail
cd "$(dirname "$0")"

PYTHON=${PYTHON:-python3}
VENV=.venv

log() { printf '[dev.sh] %s\n' "$*" >&2; }

ensure_venv() {
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PYTHON" -m venv "$VENV" 2>/dev/null; then
            # Debian's python3 ships venv separately.
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                log "installing python3-venv"
                DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-venv >/dev/null
                "$PYTHON" -m venv "$VENV"
            else
                log "python3 -m venv failed: install python3-venv (Python >= 3.11)"; exit 3
            fi
        fi
    fi
    # Reinstall only when the dependency list changed.
    local stamp="$VENV/.drills-deps" want
    want=$(sha256sum pyproject.toml | cut -d' ' -f1)
    if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
        log "installing drills and its dependencies into $VENV"
        "$VENV/bin/python" -m pip install -q --disable-pip-version-check -e '.[dev]'
        echo "$want" > "$stamp"
    fi
}

cmd=${1:-}
[ $# -gt 0 ] && shift
case "$cmd" in
    test)
        ensure_venv
        "$VENV/bin/drill" setup
        log "ruff"; "$VENV/bin/ruff" check .
        log "mypy --strict"; "$VENV/bin/mypy"
        log "import-linter (the layers of docs/architecture.md)"; "$VENV/bin/lint-imports" --no-logo --no-cache
        log "pytest"; "$VENV/bin/pytest" "$@"
        ;;
    drill)
        ensure_venv
        "$VENV/bin/drill" setup
        if "$VENV/bin/drill" run --help >/dev/null 2>&1; then
            "$VENV/bin/drill" run --suite "${DRILLS_SUITE:-policy}" "$@"
        else
            # Until the drill engine lands, the default suite is the smoke drill.
            "$VENV/bin/drill" smoke
        fi
        ;;
    *)
        echo "usage: ./dev.sh test [pytest args] | ./dev.sh drill [args]" >&2; exit 2 ;;
esac
