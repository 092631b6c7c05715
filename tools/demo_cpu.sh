#!/usr/bin/env bash
# The CPU main job (`make demo`): data -> train the CPU config -> test (COCO
# bbox/segm mAP with bootstrap intervals) -> loss/mAP curves -> qualitative grid.
# Re-running resumes the same work dir. The dataset: SRC=/path/to/PennFudanPed
# (or its zip, or --download), else $PENNFUDAN_SRC, else data/, else the download.
#
#   bash tools/demo_cpu.sh            (make demo)
#   FP32=1 bash tools/demo_cpu.sh     (make demo FP32=1: train in fp32 where the CPU config
#                                      would train in bf16, on a CPU with bf16 units)
# The test is fp32 either way.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PY:-.venv/bin/python}"
SRC="${SRC:-}"
DATA="${DATA:-data/pennfudan}"
CONFIG="${CONFIG:-configs/deit-tiny_mrcnn_pennfudan_cpu.py}"
WORK="${WORK:-work_dirs/demo_cpu}"
FP32="${FP32:-}"
T0=$(date +%s)
# what the console shows of training: our lines, the precision and CPU, mmengine's
# progress, warnings and errors
PROGRESS='^\[train\]|Epoch\((train|val)\)|- (WARNING|ERROR) -|- INFO - precision: '
step() { printf '\n[demo] (%ss) %s\n' "$(( $(date +%s) - T0 ))" "$*"; }

[ -x "$PY" ] || { echo "[demo] no $PY: run 'make setup' first" >&2; exit 1; }
echo "[demo] data -> $DATA, checkpoints and logs -> $WORK, test results -> $WORK/test_<time>/"

step "1/5 data -> $DATA"
if [ -f "$DATA/annotations/instances_test.json" ]; then
  echo "[demo] $DATA already converted (delete it, or make data SRC=... to redo)"
elif [ "$SRC" = "--download" ]; then
  "$PY" data_prep/pennfudan_to_coco.py --download --out "$DATA" --folds 5
else
  "$PY" data_prep/pennfudan_to_coco.py ${SRC:+--src "$SRC"} --out "$DATA" --folds 5
fi

step "2/5 train $CONFIG -> $WORK (all its output: $WORK/train_output.txt)"
RESUME=()
ls "$WORK"/*.pth >/dev/null 2>&1 && RESUME=(--resume)
mkdir -p "$WORK"
# the console gets the progress lines; the config dump and the per-epoch COCO tables stay
# in the file (grep status 1, no line selected yet, is no failure; the trainer's is)
PYTHONUNBUFFERED=1 "$PY" tools/train.py "$CONFIG" --work-dir "$WORK" --data-root "$DATA" \
    "${RESUME[@]}" ${FP32:+--fp32} | tee "$WORK/train_output.txt" \
    | { grep --line-buffered -E "$PROGRESS" || [ $? -eq 1 ]; } || {
  status=$?
  echo "[demo] training failed: all its output is $WORK/train_output.txt" >&2
  exit $status
}

CKPT=$(ls -t "$WORK"/best_coco_segm_mAP_epoch_*.pth 2>/dev/null | head -n 1 || true)
[ -n "$CKPT" ] || CKPT="$WORK/$(cat "$WORK/last_checkpoint" | xargs basename)"
step "3/5 test $CKPT on the test split"
if ! "$PY" tools/test.py "$CONFIG" "$CKPT" --work-dir "$WORK" --data-root "$DATA" \
    > "$WORK/test_output.txt" 2>&1; then
  tail -n 15 "$WORK/test_output.txt" >&2
  echo "[demo] test failed: the whole log is $WORK/test_output.txt" >&2
  exit 1
fi
# the evaluation tables, without mmengine's per-iteration log lines; none is a failure
grep -E "^\[test\]|^(bbox|segm): |^  (metric|AP)" "$WORK/test_output.txt" || {
  echo "[demo] no evaluation tables in the test output: see $WORK/test_output.txt" >&2
  exit 1
}

step "4/5 curves"
"$PY" tools/plot_curves.py "$WORK" --out "$WORK/curves.png"

step "5/5 qualitative grid (test split)"
"$PY" tools/qualitative_grid.py "$CONFIG" "$CKPT" --data-root "$DATA" --n 6 --out "$WORK/grid_test.png"

METRICS=$(ls -td "$WORK"/test_*/ | head -n 1)metrics.json
step "done in $(( $(date +%s) - T0 )) s"
cat <<EOM
  checkpoint : $CKPT
  metrics    : $METRICS
  curves     : $WORK/curves.png
  grid       : $WORK/grid_test.png
EOM
SEEDS=docs/results/deit-tiny_mrcnn_pennfudan_cpu/seeds.json
if [ "$CONFIG" = configs/deit-tiny_mrcnn_pennfudan_cpu.py ] && [ -f "$SEEDS" ]; then
  echo "[demo] this run against the published seed runs: a rerun of the recipe should land"
  echo "[demo] inside each 95% prediction interval (README, Results; $SEEDS)"
  "$PY" tools/summarize_seeds.py "$METRICS" --against "$SEEDS"
fi
