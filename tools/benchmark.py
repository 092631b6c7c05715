"""Benchmark a config: train-step and inference speed, data time, peak memory.

    python tools/benchmark.py CONFIG [--device cpu|cuda] [--batch-size N]
        [--iters N] [--warmup N] [--mode {train,infer,both,data}]
        [--input-size H W] [--data-root DIR] [--amp] [--channels-last]
        [--checkpoint CKPT] [--threads N] [--profile] [--flops] [--out JSON]
        [--reference torchvision] [--cfg-options k=v ...]

Real Penn-Fudan images go through the config's own pipelines and data
preprocessor; batches are built before timing, so step times exclude data
loading (reported apart). ``--mode data`` times the config's train DataLoader
alone; ``both`` runs inference, then training. ``--reference torchvision``
also times the torchvision Mask R-CNN reference (same ViT, simple feature
pyramid) on the same batches and reports speed-ups. Without ``--checkpoint``
the weights are random. The last stdout line is one JSON object with every
figure and the environment; see docs/benchmarks.md. The logic lives in
``pennfudan_vit.benchmark``.
"""
import argparse
import json
import os.path as osp
import shlex
import sys
from typing import Optional, Sequence

from pennfudan_vit.config import add_config_args
from pennfudan_vit.errors import cli_entry


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark training and inference speed of a detector config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        help='default: cuda if available, else cpu')
    parser.add_argument('--batch-size', type=int,
                        help="train and infer-throughput batch (default: the train dataloader's)")
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations before each measurement')
    parser.add_argument('--mode', choices=['train', 'infer', 'both', 'data'], default='both',
                        help='both: infer then train; data: the train DataLoader alone')
    parser.add_argument('--backend', choices=['pytorch'], default='pytorch',
                        help='inference backend')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 AMP on CUDA, bf16 autocast on CPU')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last memory format for weights and input images')
    parser.add_argument('--checkpoint', help='load these weights (default: random init)')
    parser.add_argument('--threads', type=int, help='torch intra-op threads')
    parser.add_argument('--profile', action='store_true',
                        help='profile a few more iterations: top ops by self time and '
                        'forward time per model stage')
    parser.add_argument('--flops', action='store_true',
                        help="count FLOPs per step (torch's FlopCounterMode) and report them "
                        "against this machine's dense fp32 matmul rate")
    parser.add_argument('--out', help='also write the JSON result to this file')
    parser.add_argument('--reference', choices=['torchvision'],
                        help='also time the torchvision Mask R-CNN reference (same ViT, simple '
                        'feature pyramid) on the same batches and report speed-ups')
    add_config_args(parser, launcher=False)  # --data-root, --cfg-options, --input-size
    args = parser.parse_args(argv)
    for name in ('iters', 'batch_size', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.out and osp.isdir(args.out):
        parser.error(f'--out {args.out} is a directory; give a file path')
    if args.reference:  # the reference is random-init float32: compare like with like
        for flag, given in (('--mode data', args.mode == 'data'), ('--amp', args.amp),
                            ('--checkpoint', bool(args.checkpoint))):
            if given:
                parser.error(f'--reference compares random-init float32 models; drop {flag}')
    return args


@cli_entry
def main() -> None:
    args = parse_args()
    import torch

    from pennfudan_vit.benchmark import (Settings, format_report, measured_input_size,
                                         prepare_config, record_warnings, resolve_device,
                                         run_benchmark)
    from pennfudan_vit.fileio import atomic_write_json
    device = resolve_device(args.device, args.amp)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg, notes = prepare_config(args.config, args.cfg_options, args.data_root, args.mode,
                                args.input_size, args.batch_size, args.checkpoint)
    for note in notes:
        print(f'[benchmark] {note}', file=sys.stderr)
    settings = Settings(device=device, batch_size=cfg.train_dataloader.batch_size,
                        iters=args.iters, warmup=args.warmup, amp=args.amp,
                        channels_last=args.channels_last, profile=args.profile,
                        flops=args.flops)
    record = run_benchmark(
        cfg, settings, args.mode, args.input_size or measured_input_size(cfg, args.mode),
        args.checkpoint, args.reference, args.backend, config=args.config,
        config_name=osp.splitext(osp.basename(args.config))[0],
        cfg_options=dict(args.cfg_options or {}),
        command=shlex.join(['python', 'tools/benchmark.py', *sys.argv[1:]]))
    for warning in record_warnings(record):
        print(f'[benchmark] warning: {warning}', file=sys.stderr)
    print(format_report(record))
    if args.out:
        atomic_write_json(args.out, record)
        print(f'[benchmark] wrote {args.out}', file=sys.stderr)
    print(json.dumps(record, sort_keys=True, allow_nan=False))


if __name__ == '__main__':
    main()
