#!/usr/bin/env bash
# Run one of the tools shipped in mmdet's wheel on our configs (docs/mmdet_tools.md):
#   bash tools/mmdet_tool.sh NAME [ARGS...]    e.g. NAME=browse_dataset, get_flops
# NAME is a file name without .py, or a path part (mot/browse_dataset); the
# shallowest match wins. PY=python overrides the project's .venv/bin/python.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
py="${PY:-$root/.venv/bin/python}"
command -v "$py" > /dev/null || { echo "error: no python $py (make setup, or PY=)" >&2; exit 2; }
tools="$("$py" -c 'import os, mmdet; print(os.path.dirname(mmdet.__file__) + "/.mim/tools")')"
name="${1:-}"
file=""
[ -n "$name" ] && file="$(find "$tools" -path "*/$name.py" -not -path '*/__pycache__/*' \
  -printf '%d %p\n' | sort -n | head -n 1 | cut -d' ' -f2-)"
if [ -z "$file" ]; then
  names="$(find "$tools" -name '*.py' -not -path '*/__pycache__/*' -printf '%f\n' \
    | sed 's/\.py$//' | sort -u | tr '\n' ' ')"
  echo "error: ${name:+no mmdet tool named '$name'; }usage: tools/mmdet_tool.sh NAME [ARGS...]" \
    "with NAME one of: ${names% }" >&2
  exit 2
fi
shift
exec "$py" "$file" "$@"
