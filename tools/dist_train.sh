#!/usr/bin/env bash
# Multi-GPU / multi-node training through torchrun (mmengine's pytorch launcher).
#   bash tools/dist_train.sh CONFIG NUM_GPUS [train.py args...]
# Multi-node: NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 bash tools/dist_train.sh ...
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/torchrun.sh" "$2" "$DIR/train.py" "$1" --launcher pytorch "${@:3}"
