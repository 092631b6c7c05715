"""How cost grows with input size and with the number of people in an image.

    python tools/benchmark_scaling.py sizes CONFIG [CONFIG ...] --out-dir DIR
        [--sizes 256 384 512 768 1024] [--iters N] [--threads N] [--data-root DIR]
    python tools/benchmark_scaling.py people CONFIG CKPT [--images N] [--threads N]
        [--data-root DIR]
    python tools/benchmark_scaling.py attention CONFIG [CONFIG ...]
        [--sizes ...] [--batch 8] [--gpu-gib 24 80 141]

``sizes`` runs ``tools/benchmark.py --mode both --flops --batch-size 1`` once per
config and size, each in its own process (peak memory is per process), keeps the
records in DIR and prints one markdown table: train and inference time, GFLOPs per
image, the share of them in attention, and the share of the machine's matmul rate.
``people`` times batch-1 inference on every test image and batch-1 training steps
on ``--images`` train images, grouped by how many people each holds.
``attention`` needs no data or timing: the backbone's attention FLOPs and the memory
of its attention matrices at each size, by arithmetic (for machines not at hand).
"""
import argparse
import os.path as osp
import subprocess
import sys

from pennfudan_vit.config import add_config_args
from pennfudan_vit.errors import UserError, cli_entry

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    sizes = sub.add_parser('sizes', help='train / inference cost against input size')
    sizes.add_argument('configs', nargs='+')
    sizes.add_argument('--out-dir', required=True, help='benchmark records go here')
    sizes.add_argument('--sizes', type=int, nargs='+', default=[256, 384, 512, 768, 1024])
    sizes.add_argument('--iters', type=int, default=3, help='timed iterations per point')
    people = sub.add_parser('people', help='cost against the number of people')
    people.add_argument('config')
    people.add_argument('checkpoint', help='trained weights (detections depend on them)')
    people.add_argument('--images', type=int, default=24, help='train images to time')
    for p in (sizes, people):
        p.add_argument('--threads', type=int, help='torch intra-op threads')
        p.add_argument('--data-root', help='converted dataset folder')
    att = sub.add_parser('attention', help='attention FLOPs and memory by arithmetic')
    att.add_argument('configs', nargs='+')
    att.add_argument('--sizes', type=int, nargs='+', default=[256, 384, 512, 768, 1024, 2048])
    att.add_argument('--batch', type=int, default=8, help='training images per GPU')
    att.add_argument('--gpu-gib', type=float, nargs='+', default=[24, 80, 141])
    args = parser.parse_args()
    if args.command in ('sizes', 'attention'):
        bad = [s for s in args.sizes if s < 32 or s % 32]
        if bad:
            parser.error(f'--sizes must be multiples of 32, got {bad[0]}')
        missing = [c for c in args.configs if not osp.isfile(c)]
        if missing:
            parser.error(f'config file {missing[0]} does not exist')
    return args


def sizes(args: argparse.Namespace) -> None:
    from pennfudan_vit.benchmark.scaling import format_size_table, record_paths, size_row
    paths = iter(record_paths(args.out_dir, args.configs, args.sizes))
    for config in args.configs:
        for size in args.sizes:
            out = next(paths)
            cmd = [sys.executable, 'tools/benchmark.py', config, '--mode', 'both', '--flops',
                   '--input-size', str(size), str(size), '--batch-size', '1',
                   '--iters', str(args.iters), '--warmup', '1', '--out', out]
            cmd += ['--threads', str(args.threads)] if args.threads else []
            cmd += ['--data-root', args.data_root] if args.data_root else []
            print(f'[scaling] {osp.basename(config)} at {size} px', flush=True)
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
            if proc.returncode != 0:
                sys.exit(f'[scaling] failed: {" ".join(cmd)}\n{proc.stderr[-3000:]}')
    print(format_size_table([size_row(p) for p in
                             record_paths(args.out_dir, args.configs, args.sizes)]))


def people(args: argparse.Namespace) -> None:
    import torch

    from pennfudan_vit.benchmark import prepare_config
    from pennfudan_vit.benchmark.scaling import format_people_table, people_timing
    if args.threads:
        torch.set_num_threads(args.threads)
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    cfg, _ = prepare_config(args.config, None, args.data_root, 'both',
                            checkpoint=args.checkpoint)
    print(format_people_table(people_timing(cfg, args.checkpoint, args.images)))


def attention(args: argparse.Namespace) -> None:
    from mmengine.config import Config

    from pennfudan_vit.benchmark.attention_cost import (attention_table, backbone_layout,
                                                        format_attention_table)
    rows = []
    for config in args.configs:
        layout = backbone_layout(Config.fromfile(config))
        rows += attention_table(osp.splitext(osp.basename(config))[0], layout, args.sizes,
                                args.batch, args.gpu_gib)
    print(format_attention_table(rows, args.batch))


@cli_entry
def main() -> None:
    args = parse_args()
    dict(sizes=sizes, people=people, attention=attention)[args.command](args)


if __name__ == '__main__':
    main()
