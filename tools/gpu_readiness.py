"""GPU readiness: one prepared run for a CUDA machine (after ``FORCE_CUDA=1 make setup``),
the steps of ``pennfudan_bench.readiness`` in this process; ``--dry-run`` on a CPU."""
import argparse
import json
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--checkpoint', required=True, help='a checkpoint of the CPU config '
                        '(make demo leaves one in work_dirs/demo_cpu/)')
    parser.add_argument('--work-dir', default='work_dirs/gpu_readiness')
    parser.add_argument('--iters', type=int, default=300, help='training iterations (300)')
    parser.add_argument('--data-root', help="converted dataset (default: the configs')")
    parser.add_argument('--dry-run', action='store_true',
                        help='CPU, 128 px, a few images: check the wiring without a GPU')
    args = parser.parse_args(argv)
    if args.iters < 1:
        parser.error(f'--iters must be >= 1, got {args.iters}')
    if not osp.isfile(args.checkpoint):
        raise UserError(f'--checkpoint {args.checkpoint} does not exist: run make demo first, '
                        'or pass a checkpoint of configs/deit-tiny_mrcnn_pennfudan_cpu.py')
    import torch
    if not args.dry_run and not torch.cuda.is_available():
        raise UserError('no usable CUDA GPU here: run FORCE_CUDA=1 make setup on a CUDA '
                        'machine first, or use --dry-run on a CPU')
    from pennfudan_bench.readiness import run_readiness
    summary = run_readiness(ROOT, args.work_dir, args.checkpoint, args.iters,
                            args.dry_run, args.data_root)
    print('[gpu_readiness] summary\n' + json.dumps(summary, indent=2))


if __name__ == '__main__':
    main()
