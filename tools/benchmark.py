"""Benchmark a config: train-step and inference speed, data time, peak memory (and the
torchvision reference's); the last stdout line is the JSON record. docs/benchmarks.md"""
import argparse
import json
import os.path as osp
import shlex
import sys

from pennfudan_vit.config import add_config_args, pipeline_size
from pennfudan_vit.errors import UserError, cli_entry


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('--device', help='cpu, cuda or cuda:N (default: cuda if available)')
    parser.add_argument('--batch-size', type=int, help="default: the train loader's")
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=3, help='untimed iterations before those')
    parser.add_argument('--mode', choices=['train', 'infer', 'both', 'data'], default='both',
                        help='both: infer then train; data: the train DataLoader alone')
    parser.add_argument('--amp', action='store_true', help='the mixed precision this device '
                        'runs natively (fp16 on CUDA, bf16 on a CPU with bf16 units)')
    parser.add_argument('--compare-fp32', action='store_true',
                        help='with --amp: also time fp32 on the same batches, and the speed-up')
    parser.add_argument('--channels-last', action='store_true')
    parser.add_argument('--checkpoint', help='these weights (default: random init)')
    parser.add_argument('--threads', type=int, help='torch intra-op threads')
    parser.add_argument('--profile', action='store_true', help='time by op class, top ops')
    parser.add_argument('--out', help='also write the JSON record here')
    parser.add_argument('--reference', choices=['torchvision'])
    add_config_args(parser, launcher=False)
    args = parser.parse_args(argv)
    if min(args.iters, args.batch_size or 1, args.threads or 1, args.warmup + 1) < 1:
        parser.error('--iters, --batch-size and --threads must be >= 1, --warmup >= 0')
    if args.reference and (args.mode == 'data' or args.amp or args.checkpoint):
        parser.error('--reference compares random-init float32 models: drop --mode data, '
                     '--amp and --checkpoint')
    if args.compare_fp32 and (not args.amp or args.mode == 'data'):
        parser.error('--compare-fp32 compares --amp with fp32: add --amp, drop --mode data')
    if args.checkpoint and not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    import torch
    from pennfudan_bench.phases import Settings
    from pennfudan_bench.step_bench import format_report, prepare_config, run_benchmark
    from pennfudan_vit.detector import resolve_device
    from pennfudan_vit.fileio import atomic_write_json
    device = resolve_device(args.device)
    torch.set_num_threads(args.threads or torch.get_num_threads())
    cfg, notes = prepare_config(args.config, args.cfg_options, args.data_root, args.mode,
                                args.input_size, args.batch_size)
    size = args.input_size or pipeline_size(cfg, f'{"test" if args.mode == "infer" else "train"}'
                                                 '_dataloader')
    if args.reference and not size:
        raise UserError('--reference needs --input-size (the config pipelines fix no size)')
    for note in notes + [f'weights: {args.checkpoint or "random init"}']:
        print(f'[benchmark] {note}', file=sys.stderr)
    record = run_benchmark(
        cfg, Settings(device, cfg.train_dataloader.batch_size, args.iters, args.warmup,
                      args.amp, args.channels_last, args.profile),
        args.mode, size, args.checkpoint, bool(args.reference), args.compare_fp32,
        config=args.config,
        config_name=osp.splitext(osp.basename(args.config))[0],
        cfg_options=dict(args.cfg_options or {}), command=shlex.join(
            ['python', 'tools/benchmark.py', *(sys.argv[1:] if argv is None else argv)]))
    for warning in record['warnings']:
        print(f'[benchmark] warning: {warning}', file=sys.stderr)
    print(format_report(record))
    if args.out:
        print(f'[benchmark] wrote {atomic_write_json(args.out, record)}', file=sys.stderr)
    print(json.dumps(record, sort_keys=True, allow_nan=False))


if __name__ == '__main__':
    main()
