#!/usr/bin/env bash
# Slurm testing, one task per GPU.
#   PARTITION=gpu bash tools/slurm_test.sh CONFIG CHECKPOINT JOB_NAME NUM_GPUS [test.py args...]
set -euo pipefail
DIR="$(cd "$(dirname "$0")" && pwd)"
exec bash "$DIR/slurm.sh" "$3" "$4" "$DIR/test.py" "$1" "$2" "${@:5}"
