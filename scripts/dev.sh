#!/usr/bin/env bash
# The two commands of the README, each creating/refreshing the environment it needs:
#   scripts/dev.sh train [hydra overrides...]   train env=cube_rotate on the embedded default
#   scripts/dev.sh test  [pytest args...]       run the test suite
# The virtual environment lives in .venv (override with DEXRL_VENV). torch is pinned to 2.13.0
# first (a CPU build on the project's machines); pyproject.toml declares a range so GPU users can
# install a CUDA build instead.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${DEXRL_VENV:-.venv}"
PY="${PYTHON:-python3}"

setup() {
  if [ ! -x "$VENV/bin/python" ]; then
    echo "[dexrl] creating $VENV"
    "$PY" -m venv "$VENV"
  fi
  # Refresh only when pyproject.toml changed since the last install.
  local stamp="$VENV/.dexrl-installed" want
  want="$(sha256sum pyproject.toml | cut -d' ' -f1)"
  if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
    echo "[dexrl] installing dependencies into $VENV (once per pyproject.toml change)"
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q "torch==2.13.0" || "$VENV/bin/python" -m pip install -q "torch>=2.2,<3"
    "$VENV/bin/python" -m pip install -q -e ".[dev]"
    echo "$want" > "$stamp"
  fi
  # Headless rendering: OSMesa on CPU machines (install it when we are root and it is missing).
  if [ -z "${MUJOCO_GL:-}" ]; then
    export MUJOCO_GL=osmesa PYOPENGL_PLATFORM=osmesa
    if ! ldconfig -p 2>/dev/null | grep -q libOSMesa && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[dexrl] installing libosmesa6 for headless rendering"
      (apt-get install -y -q libosmesa6 >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q libosmesa6 >/dev/null 2>&1)) \
        || echo "[dexrl] warning: could not install libosmesa6; rendering tests will fail"
    fi
  fi
  # The viewer test (tests/scripts/test_view.py) opens a real window on a virtual X server and
  # takes a screenshot: Xvfb (xvfb) and xwd (x11-apps); installed the same way when missing.
  if ! command -v Xvfb >/dev/null || ! command -v xwd >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "[dexrl] installing xvfb and x11-apps for the viewer test"
      (apt-get install -y -q xvfb x11-apps >/dev/null 2>&1 || (apt-get update -q >/dev/null 2>&1 && apt-get install -y -q xvfb x11-apps >/dev/null 2>&1)) \
        || echo "[dexrl] warning: could not install xvfb; the viewer window test will be skipped"
    fi
  fi
}

cmd="${1:-}"
shift || true
case "$cmd" in
  train)
    setup
    exec "$VENV/bin/python" scripts/train.py env=cube_rotate "$@"
    ;;
  test)
    setup
    export WANDB_MODE=disabled
    # --durations: the slowest tests in every log (the suite aims at < 20 min on 2 cores)
    exec "$VENV/bin/python" -m pytest -q --durations=15 "$@"
    ;;
  *)
    echo "usage: scripts/dev.sh train [hydra overrides...] | scripts/dev.sh test [pytest args...]" >&2
    exit 2
    ;;
esac
