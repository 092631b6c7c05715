#!/usr/bin/env bash
# The GPU readiness run on a lent device machine (no package registry there; Python 3.12
# and a CUDA torch are installed). It reads .dev/ (ignored by git, carried with the tree),
# filled here by bench/device/prepare.py: wheels, the mmcv sdist, the data, a checkpoint.
# mmcv is built with its CPU ops (minutes instead of its CUDA kernels' tens of minutes);
# sitecustomize.py beside this file routes its two CUDA calls to torchvision.
set -euo pipefail
T0=$(date +%s); say() { echo "[h200_check $(( $(date +%s) - T0 )) s] $*"; }
OUT=${OUT:-/tmp/h200_out}; mkdir -p "$OUT"
DATA=.dev/data/pennfudan; CKPT=$(ls .dev/ckpt/*.pth | head -1)
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
python3 -c "import sys, torch; print(sys.version.split()[0], 'torch', torch.__version__, torch.cuda.get_device_name(0))"
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site .dev/whl/*.whl 2>&1 | grep -v "already exists" || true
export PYTHONPATH=/tmp/site
# mmpretrain 1.2 turns on its multimodal models when transformers>=4.28 is installed, and
# they fail to import with the transformers 5 there; nothing of ours needs them.
mkdir -p /tmp/site/transformers-0.0.0.dist-info
printf 'Metadata-Version: 2.1\nName: transformers\nVersion: 0.0.0\n' > /tmp/site/transformers-0.0.0.dist-info/METADATA
say "building mmcv 2.1.0 with its CPU ops"
[ -d /tmp/site/mmcv/ops ] || { mkdir -p /tmp/b && tar -xzf .dev/src/mmcv-2.1.0.tar.gz -C /tmp/b
sed -i -E 's/-std=c\+\+1[47]/-std=c++17/g' /tmp/b/mmcv-2.1.0/setup.py
( cd /tmp/b/mmcv-2.1.0 && CUDA_VISIBLE_DEVICES= FORCE_CUDA=0 MMCV_WITH_OPS=1 MAX_JOBS=16 \
  python3 -m pip wheel --no-build-isolation --no-deps -w /tmp/b/wheel . ) > "$OUT/mmcv_build.log" 2>&1 \
  || { tail -40 "$OUT/mmcv_build.log"; exit 1; }
python3 -m pip install -q --no-deps --no-compile --target /tmp/site /tmp/b/wheel/mmcv-*.whl; }
python3 -m pip install -q --no-deps --no-build-isolation --target /tmp/site . ./bench
export PYTHONPATH=/tmp/site:$PWD/bench/device PYTHONUNBUFFERED=1
say "stack ready"
python3 tools/check_env.py || true
for c in vit_mrcnn_pennfudan deit-tiny_mrcnn_pennfudan_cpu; do
  say "benchmark $c: fp16 AMP and fp32"
  python3 tools/benchmark.py configs/$c.py --device cuda --amp --compare-fp32 --iters 10 \
    --warmup 5 --data-root $DATA --out "$OUT/bench_$c.json" > "$OUT/bench_$c.log" 2>&1 \
    || say "benchmark $c FAILED"
  grep -v '^{' "$OUT/bench_$c.log" | tail -25
done
say "readiness: short training of the main config, test of $CKPT"
python3 tools/gpu_readiness.py --checkpoint "$CKPT" --iters ${ITERS:-85} --data-root $DATA \
  --work-dir /tmp/readiness > "$OUT/readiness.log" 2>&1 || say "readiness FAILED"
tail -40 "$OUT/readiness.log"
cp /tmp/readiness/summary.json "$OUT/" 2>/dev/null || true
cp "$(ls -d /tmp/readiness/train/2*/ | head -1)"vis_data/scalars.json "$OUT/readiness_scalars.json" 2>/dev/null || true
say "done"
