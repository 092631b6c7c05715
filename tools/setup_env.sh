#!/usr/bin/env bash
# One-command setup of pennfudan-vit: .venv/ + torch + mmcv 2.1.0 (built with its
# compiled ops) + mmengine/mmdet/mmpretrain + this plugin (editable) + a self-check.
#
#   bash tools/setup_env.sh            (or: make setup)
#
# Environment knobs:
#   PYTHON=python3.11          interpreter used to create .venv (default: python3)
#   VENV=.venv                 where the environment goes
#   TORCH_VARIANT=auto         cpu: PyTorch's CPU wheels (a venv of about 2 GB); cuda: the
#                              PyPI build with its CUDA libraries (about 6 GB); auto (default):
#                              cpu where no NVIDIA driver is found, else cuda
#   TORCH_CPU_INDEX_URL=...    where the CPU wheels come from
#                              (default: https://download.pytorch.org/whl/cpu)
#   TORCH_INDEX_URL=...        extra index for torch/torchvision (e.g. another CUDA build)
#   FORCE_CUDA=1               build mmcv's CUDA ops even if no GPU is visible (needs nvcc)
#   TORCH_CUDA_ARCH_LIST="9.0" CUDA architectures to compile (default: the visible GPU's)
#   MAX_JOBS=N                 parallel compile jobs (default: number of cores)
#   PENNFUDAN_WHEEL_CACHE=dir  where built mmcv wheels are kept
#                              (default: ~/.cache/pennfudan-vit/wheels)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
VENV="${VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
MMCV_VERSION="2.1.0"
CACHE="${PENNFUDAN_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/pennfudan-vit/wheels}"
STEP="start"
T0=$(date +%s)

say()  { printf '\n\033[1m[setup] %s\033[0m\n' "$*"; }
fail() {
  printf '\n[setup] FAILED at step "%s": %s\n' "$STEP" "$1" >&2
  [ -n "${2:-}" ] && printf '[setup] fix: %s\n' "$2" >&2
  exit 1
}
trap 'rc=$?; [ $rc -ne 0 ] && printf "\n[setup] FAILED at step \"%s\" (exit %s). Re-run with bash -x tools/setup_env.sh to see the failing command.\n" "$STEP" "$rc" >&2' EXIT

PY="$ROOT/$VENV/bin/python"
PIP=("$PY" -m pip --disable-pip-version-check)
# pip output without the noise of already-satisfied requirements
quiet_pip() { "${PIP[@]}" "$@" 2>&1 | { grep -v -E "already satisfied|^WARNING: Location|^Looking in" || true; }; return "${PIPESTATUS[0]}"; }
TORCH_PIP_ARGS=()
[ -n "${TORCH_INDEX_URL:-}" ] && TORCH_PIP_ARGS=(--extra-index-url "$TORCH_INDEX_URL")
TORCH_VARIANT="${TORCH_VARIANT:-auto}"
if [ "$TORCH_VARIANT" = auto ]; then
  TORCH_VARIANT=cpu
  { command -v nvidia-smi || [ -e /proc/driver/nvidia/version ]; } >/dev/null 2>&1 && TORCH_VARIANT=cuda
fi
case "$TORCH_VARIANT" in cpu|cuda) ;; *) fail "TORCH_VARIANT=$TORCH_VARIANT is not a choice" "use auto, cpu or cuda";; esac
CPU_INDEX="${TORCH_CPU_INDEX_URL:-https://download.pytorch.org/whl/cpu}"

# ---------------------------------------------------------------- 1. venv
STEP="venv"
if [ ! -x "$PY" ]; then
  command -v "$PYTHON" >/dev/null || fail "no '$PYTHON' on PATH" "install Python 3.10-3.12 or set PYTHON=/path/to/python3"
  "$PYTHON" -c 'import sys; sys.exit(not ((3,10) <= sys.version_info[:2] <= (3,12)))' \
    || fail "$("$PYTHON" --version) is not supported" "use Python 3.10-3.12 (PYTHON=python3.11 make setup)"
  say "Creating virtual environment $VENV with $("$PYTHON" --version)"
  "$PYTHON" -m venv "$VENV" || fail "python -m venv failed" "apt-get install python3-venv (Debian/Ubuntu)"
fi

# Idempotence: a stamp of every input that decides the environment.
STAMP="$VENV/.pennfudan-setup"
want_stamp() {
  cat requirements.txt requirements/*.txt pyproject.toml bench/pyproject.toml 2>/dev/null | sha256sum | cut -c1-16
  echo "$TORCH_VARIANT ${TORCH_INDEX_URL:-} ${FORCE_CUDA:-} ${TORCH_CUDA_ARCH_LIST:-}"
}
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$(want_stamp)" ] && "$PY" tools/check_env.py --quiet; then
  say "Environment in $VENV is already set up and passes the self-check: nothing changed ($(( $(date +%s) - T0 )) s)."
  exit 0
fi

# ---------------------------------------------------------------- 2. torch
STEP="torch"
"${PIP[@]}" install -q --upgrade pip >/dev/null 2>&1 || true
TORCH_REQ=requirements/torch.txt
if [ "$TORCH_VARIANT" = cpu ] && [ -z "${TORCH_INDEX_URL:-}" ]; then
  if "$PY" -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1] + "/torch/", timeout=10)' \
      "$CPU_INDEX" >/dev/null 2>&1; then
    # the same pins with the CPU builds' local version (torch==X+cpu)
    TORCH_REQ="$ROOT/.build/torch-cpu.txt"; mkdir -p "$ROOT/.build"
    sed -E 's/^(torch|torchvision)==([0-9.]+)$/\1==\2+cpu/' requirements/torch.txt > "$TORCH_REQ"
    TORCH_PIP_ARGS=(--index-url "$CPU_INDEX")
  else
    say "No NVIDIA driver here, but the CPU wheels ($CPU_INDEX) cannot be reached: installing the PyPI build with its CUDA libraries (about 6 GB). TORCH_CPU_INDEX_URL=... points to a mirror."
    TORCH_VARIANT=cuda
  fi
fi
say "Installing torch/torchvision ($TORCH_VARIANT build, $TORCH_REQ) and build tools"
quiet_pip install "${TORCH_PIP_ARGS[@]}" -r "$TORCH_REQ" \
  || fail "pip could not install torch/torchvision" "check requirements/torch.txt pins, TORCH_VARIANT and TORCH_INDEX_URL"
[ "${TORCH_PIP_ARGS[0]:-}" = --index-url ] && TORCH_PIP_ARGS=(--extra-index-url "$CPU_INDEX")
# setuptools<70 only while mmcv builds (restored to torch's requirement in step 4).
"${PIP[@]}" install -q -r requirements/build.txt 2>&1 | grep -v "dependency conflicts\|requires setuptools\|resolver does not" || true

read -r TORCH_VER CUDA_VER PYTAG CXX_STD HAS_GPU GPU_ARCH < <("$PY" - <<'PY'
import inspect, re, sys
import torch, torch.utils.cpp_extension as ce
src = inspect.getsource(ce)
std = max(int(s) for s in re.findall(r"-std=c\+\+(\d\d)", src))  # what torch itself compiles with
gpu = torch.cuda.is_available()
arch = "%d.%d" % torch.cuda.get_device_capability(0) if gpu else "none"
print(torch.__version__.split("+")[0], torch.version.cuda or "cpu",
      "cp%d%d" % sys.version_info[:2], std, int(gpu), arch)
PY
)

# ---------------------------------------------------------------- 3. mmcv
STEP="mmcv"
WITH_CUDA=0
if [ "${FORCE_CUDA:-0}" = "1" ] || [ "$HAS_GPU" = "1" ]; then
  command -v nvcc >/dev/null || [ -x "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc" ] \
    || fail "a GPU is visible (or FORCE_CUDA=1) but nvcc is not found" "install the CUDA toolkit matching torch ($CUDA_VER) and set CUDA_HOME"
  WITH_CUDA=1
  export FORCE_CUDA=1
  export TORCH_CUDA_ARCH_LIST="${TORCH_CUDA_ARCH_LIST:-$GPU_ARCH}"
fi
export MAX_JOBS="${MAX_JOBS:-$(nproc)}"
OPS="cpu"; [ "$WITH_CUDA" = 1 ] && OPS="cuda${CUDA_VER}-sm$(echo "$TORCH_CUDA_ARCH_LIST" | tr -c '0-9\n' '_')"
KEY="mmcv-${MMCV_VERSION}_torch-${TORCH_VER}_${OPS}_${PYTAG}_$(uname -m)"
WHEEL_DIR="$CACHE/$KEY"

mmcv_ops_ok() { "$PY" -c "from mmcv.ops import nms, RoIAlign" >/dev/null 2>&1; }

if mmcv_ops_ok && "$PY" -c "import mmcv,sys; sys.exit(mmcv.__version__!='$MMCV_VERSION')"; then
  say "mmcv $MMCV_VERSION with compiled ops is already installed"
else
  if ! ls "$WHEEL_DIR"/mmcv-*.whl >/dev/null 2>&1; then
    BUILD="$ROOT/.build/mmcv"
    rm -rf "$BUILD"; mkdir -p "$BUILD"
    say "Building mmcv $MMCV_VERSION from its sdist ($([ $WITH_CUDA = 1 ] && echo "CPU + CUDA ops for arch $TORCH_CUDA_ARCH_LIST" || echo "CPU ops"), C++$CXX_STD, MAX_JOBS=$MAX_JOBS)."
    say "This takes about 10 minutes on 2 cores (longer with CUDA ops); the wheel is kept in $WHEEL_DIR so the next setup takes minutes."
    "${PIP[@]}" download -q --no-deps --no-build-isolation --no-binary :all: "mmcv==$MMCV_VERSION" -d "$BUILD" \
      || fail "could not download the mmcv $MMCV_VERSION sdist from PyPI" "check network access to pypi.org, or put mmcv-$MMCV_VERSION.tar.gz in $BUILD"
    tar -xzf "$BUILD"/mmcv-$MMCV_VERSION.tar.gz -C "$BUILD"
    SRC="$BUILD/mmcv-$MMCV_VERSION"
    # mmcv hard-codes -std=c++14/17; the installed torch's headers need C++$CXX_STD.
    sed -i -E "s/-std=c\+\+1[47]/-std=c++$CXX_STD/g; s#/std:c\+\+1[47]#/std:c++$CXX_STD#g" "$SRC/setup.py"
    grep -q "std=c++$CXX_STD" "$SRC/setup.py" || fail "could not patch the C++ standard in mmcv's setup.py"
    mkdir -p "$BUILD/wheel"
    ( cd "$SRC" && MMCV_WITH_OPS=1 "${PIP[@]}" wheel -v --no-build-isolation --no-deps -w "$BUILD/wheel" . ) 2>&1 \
      | sed -n -u -E 's#^ *(\[[0-9]+/[0-9]+\]).* -c ([^ ]*/)?([^ /]+\.(cpp|cu)) .*#  \1 compiling \3#p; /error|Error|Created wheel/p' \
      || true
    ls "$BUILD"/wheel/mmcv-*.whl >/dev/null 2>&1 \
      || fail "mmcv's build produced no wheel (see the compiler errors above)" "install g++ (build-essential) and python3-dev; for CUDA, a toolkit matching torch"
    "$PY" -c "import sys, zipfile; names = zipfile.ZipFile(sys.argv[1]).namelist(); sys.exit(not any(n.startswith('mmcv/_ext') for n in names))" "$BUILD"/wheel/mmcv-*.whl \
      || fail "mmcv was built WITHOUT its compiled ops (mmcv/_ext missing from the wheel)" "the build must see torch: --no-build-isolation and setuptools<70"
    mkdir -p "$WHEEL_DIR" && mv "$BUILD"/wheel/mmcv-*.whl "$WHEEL_DIR"/
    rm -rf "$BUILD"
  else
    say "Reusing the mmcv wheel built earlier: $(ls "$WHEEL_DIR"/mmcv-*.whl)"
  fi
  "${PIP[@]}" install -q --no-deps --force-reinstall "$WHEEL_DIR"/mmcv-*.whl
fi

# ---------------------------------------------------------------- 4. the rest
STEP="requirements"
say "Installing mmengine, mmdet, mmpretrain and tools (requirements.txt)"
quiet_pip install "${TORCH_PIP_ARGS[@]}" -r requirements.txt \
  || fail "pip could not install requirements.txt" "read pip's message above; the pins are in requirements.txt"
STEP="mmcv-ops"
# (mmcv.ops imports mmengine, so this check waits until requirements are in)
mmcv_ops_ok || { rm -rf "$WHEEL_DIR"; fail "the installed mmcv cannot import mmcv.ops (nms, RoIAlign): $("$PY" -c "from mmcv.ops import nms" 2>&1 | tail -n 1). The cached wheel was removed" "run the setup again to rebuild it"; }
STEP="plugin"
"${PIP[@]}" install -q --no-deps --no-build-isolation -e . \
  || fail "editable install of the pennfudan_vit plugin failed" "check pyproject.toml"
# the measurement harness behind docs/benchmarks.md, a distribution of its own
"${PIP[@]}" install -q --no-deps --no-build-isolation -e bench \
  || fail "editable install of the measurement harness (bench/) failed" "check bench/pyproject.toml"

# ---------------------------------------------------------------- 5. self-check
STEP="self-check"
say "Self-check"
"$PY" tools/check_env.py || fail "the self-check failed (message above)" "re-run make setup; if mmcv.ops fails, delete $WHEEL_DIR to force a rebuild"
want_stamp > "$STAMP"
trap - EXIT
say "Done in $(( $(date +%s) - T0 )) s. Activate with: source $VENV/bin/activate"
