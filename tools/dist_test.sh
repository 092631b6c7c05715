#!/usr/bin/env bash
# Multi-GPU / multi-node testing through torchrun (mmengine's pytorch launcher).
#   bash tools/dist_test.sh CONFIG CHECKPOINT NUM_GPUS [test.py args...]
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/torchrun.sh" "$3" "$DIR/test.py" "$1" "$2" --launcher pytorch "${@:4}"
