#!/usr/bin/env bash
# srun with the project's interpreter, one task per GPU; used by slurm_train.sh /
# slurm_test.sh (mmengine's slurm launcher sets up the ranks).
#   PARTITION=gpu bash tools/slurm.sh JOB_NAME NUM_GPUS SCRIPT [args...]
set -euo pipefail
JOB_NAME=$1; GPUS=$2
GPUS_PER_NODE=${GPUS_PER_NODE:-8}
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
exec srun -p "${PARTITION:?set PARTITION}" --job-name="$JOB_NAME" --gres=gpu:"$GPUS_PER_NODE" \
  --ntasks="$GPUS" --ntasks-per-node="$GPUS_PER_NODE" --cpus-per-task="${CPUS_PER_TASK:-5}" \
  --kill-on-bad-exit=1 ${SRUN_ARGS:-} \
  "$ROOT/.venv/bin/python" -u "${@:3}" --launcher slurm
