#!/usr/bin/env bash
# Slurm training, one task per GPU.
#   PARTITION=gpu bash tools/slurm_train.sh CONFIG JOB_NAME NUM_GPUS [train.py args...]
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/slurm.sh" "$2" "$3" "$DIR/train.py" "$1" "${@:4}"
