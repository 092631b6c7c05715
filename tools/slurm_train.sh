#!/usr/bin/env bash
# Slurm example: one task per GPU, mmengine's slurm launcher sets up the ranks.
#   PARTITION=gpu bash tools/slurm_train.sh CONFIG JOB_NAME NUM_GPUS [train.py args...]
set -euo pipefail
CONFIG=$1; JOB_NAME=$2; GPUS=$3
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
srun -p "${PARTITION:?set PARTITION}" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
  --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="${CPUS_PER_TASK:-5}" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "$ROOT/.venv/bin/python" -u "$ROOT/tools/train.py" "$CONFIG" --launcher slurm "${@:4}"
