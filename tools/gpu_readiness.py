"""GPU readiness: one prepared run for a CUDA machine with 15 minutes to spare.

    python tools/gpu_readiness.py --checkpoint CPU_CKPT [--work-dir DIR] [--iters N]
        [--no-setup] [--data-root DIR] [--dry-run]

Steps: ``make setup`` (mmcv with CUDA ops), ``tools/benchmark.py`` on the main
config at 640 px with AMP (train and inference img/s, peak memory, FLOPs against
the GPU's measured matmul rate), ``tools/train.py`` for about ``--iters``
iterations with AMP from random init (the machine may be offline), and
``tools/test.py`` of the CPU-trained checkpoint on the GPU. It ends with one
summary, also written to ``DIR/summary.json``. ``--dry-run`` runs every step on
the CPU at 128 px with a few images, to check the wiring where no GPU is at hand.
"""
import argparse
import json
import os
import os.path as osp
import subprocess
import sys
import time

import _project_path  # noqa: F401  (runs before the setup step installs the plugin)
from pennfudan_vit.readiness import plan, summarize
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', required=True,
                        help='a checkpoint of the CPU config (make demo leaves one in '
                        'work_dirs/demo_cpu/), tested on the GPU')
    parser.add_argument('--work-dir', default='work_dirs/gpu_readiness')
    parser.add_argument('--iters', type=int, default=300, help='training iterations (300)')
    parser.add_argument('--no-setup', action='store_true', help='skip make setup')
    parser.add_argument('--data-root', help='converted dataset (default: the configs\')')
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, 128 px, a few images: check the wiring without a GPU')
    args = parser.parse_args()
    if args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    return args


@cli_entry
def main() -> None:
    args = parse_args()
    if not osp.isfile(args.checkpoint):
        raise UserError(f'--checkpoint {args.checkpoint} does not exist: run make demo first, '
                        'or pass a checkpoint of configs/deit-tiny_mrcnn_pennfudan_cpu.py')
    if not args.dry_run and not args.no_setup and not _has_nvidia_smi():
        raise UserError('no CUDA GPU here (nvidia-smi not found): use --dry-run on a CPU')
    python = sys.executable if args.no_setup or args.dry_run else '.venv/bin/python'
    steps = plan(args.work_dir, args.checkpoint, python, args.iters, args.dry_run,
                 setup=not args.no_setup, data_root=args.data_root)
    env = dict(os.environ, **({} if args.dry_run else {'FORCE_CUDA': '1'}))
    start = time.time()
    for step in steps:
        print(f'\n[gpu_readiness] ({time.time() - start:.0f} s) {step.name}: '
              f'{" ".join(step.argv)}', flush=True)
        if subprocess.run(step.argv, cwd=ROOT, env=env).returncode != 0:
            sys.exit(f'[gpu_readiness] step {step.name} failed (output above)')
    summary = dict(summarize(osp.join(ROOT, args.work_dir)), dry_run=args.dry_run,
                   seconds=round(time.time() - start, 1))
    atomic_write_json(osp.join(ROOT, args.work_dir, 'summary.json'), summary)
    print('\n[gpu_readiness] summary\n' + json.dumps(summary, indent=2))


def _has_nvidia_smi() -> bool:
    from shutil import which
    return which('nvidia-smi') is not None


if __name__ == '__main__':
    main()
