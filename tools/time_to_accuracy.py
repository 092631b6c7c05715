"""Time-to-accuracy: AP after equal wall-clock training, ours against the torchvision reference.

    python tools/time_to_accuracy.py run CONFIG --system {ours,reference} --work-dir DIR
        [--budget S] [--every S] [--warmup S] [--seed N] [--threads N] [--split {val,test}]
        [--batch-size N] [--reference-recipe {config,torchvision}] [--data-root DIR]
        [--input-size H W] [--cfg-options k=v ...] [--label NAME]
    python tools/time_to_accuracy.py rescore DIR/record.json --split {val,test} --out FILE
    python tools/time_to_accuracy.py summarize DIR/*/record.json [--out FILE] [--plot PNG]
        [--ours LABEL]

``run`` trains one system from random init for ``--budget`` seconds of wall-clock
time under the same policy for both (warm-up, then cosine decay to the end of the
budget), saves weights every ``--every`` seconds, scores each snapshot with COCOeval
on the split and writes ``DIR/record.json``. ``--label`` names a variant's curve (runs
with one label are one curve). ``rescore`` scores a run's snapshots on another split,
so recipes are compared on val without training again. ``summarize`` gives mean, std and range
over seeds per time mark, the ratio ours / reference, and the curves picture.
See docs/benchmarks.md, "Time to accuracy".
"""
import argparse
import os.path as osp

from pennfudan_vit.config import add_config_args
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='train one system for a time budget and score it')
    run.add_argument('config', help='config file path (a ViT config)')
    run.add_argument('--system', choices=['ours', 'reference'], required=True)
    run.add_argument('--work-dir', required=True, help='snapshots and record.json go here')
    run.add_argument('--budget', type=float, default=900, help='training seconds (900)')
    run.add_argument('--every', type=float, default=150, help='snapshot interval, s (150)')
    run.add_argument('--warmup', type=float, default=60, help='lr warm-up seconds (60)')
    run.add_argument('--seed', type=int, default=0)
    run.add_argument('--threads', type=int, help='torch intra-op threads')
    run.add_argument('--batch-size', type=int, help="default: the config's train batch")
    run.add_argument('--reference-recipe', choices=['config', 'torchvision'], default='config',
                     help="the reference's optimizer: the config's AdamW, or torchvision's "
                     'Penn-Fudan tutorial SGD')
    run.add_argument('--split', choices=['val', 'test'], default='test',
                     help='split the snapshots are scored on (val for choosing recipes)')
    run.add_argument('--label', help='curve name of a variant (default: the system)')
    add_config_args(run, launcher=False)
    resc = sub.add_parser('rescore', help="score a run's snapshots on another split")
    resc.add_argument('record', help='record.json of a run whose snapshots are still there')
    resc.add_argument('--split', choices=['val', 'test'], required=True)
    resc.add_argument('--out', required=True, help='write the rescored record here')
    resc.add_argument('--data-root', help='converter output (default: as for run)')
    summ = sub.add_parser('summarize', help='seed statistics and curves of several runs')
    summ.add_argument('records', nargs='+', help='record.json files of runs')
    summ.add_argument('--out', help='write the summary JSON here')
    summ.add_argument('--plot', help='write the AP-versus-time picture here')
    summ.add_argument('--ours', default='ours',
                      help='the curve whose ratio to each other curve is given (a --label)')
    args = parser.parse_args()
    if args.command == 'run':
        for name in ('budget', 'every', 'threads', 'batch_size'):
            value = getattr(args, name)
            if value is not None and value <= 0:
                parser.error(f'--{name.replace("_", "-")} must be > 0, got {value:g}')
        if args.every > args.budget or args.warmup < 0:
            parser.error('need 0 <= --warmup and --every <= --budget')
    return args


def run(args: argparse.Namespace) -> None:
    import torch

    from pennfudan_vit.benchmark import prepare_config
    from pennfudan_vit.benchmark.time_to_accuracy import run_time_to_accuracy
    from pennfudan_vit.engine import lock_work_dir
    record_path = osp.join(args.work_dir, 'record.json')
    if osp.exists(record_path):
        raise UserError(f'{record_path} exists: use another --work-dir or remove it')
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg, _ = prepare_config(args.config, args.cfg_options, args.data_root, 'both',
                            args.input_size, args.batch_size)
    if args.split == 'val':
        from pennfudan_vit.config import check_dataset_files
        check_dataset_files(cfg, ['val_dataloader'])
    lock_work_dir(args.work_dir)
    n = int(args.budget // args.every)
    marks = [args.every * (i + 1) for i in range(n)] + (
        [args.budget] if args.budget > n * args.every else [])
    record = run_time_to_accuracy(cfg, args.system, marks, args.work_dir, args.warmup,
                                  args.seed, args.split, args.reference_recipe)
    record.update(config=args.config, cfg_options=args.cfg_options or {}, label=args.label)
    print(f'[time-to-accuracy] wrote {atomic_write_json(record_path, record)}')


def rescore(args: argparse.Namespace) -> None:
    from pennfudan_vit.benchmark import prepare_config
    from pennfudan_vit.benchmark.time_to_accuracy import read_records, rescore_record
    from pennfudan_vit.config import check_dataset_files
    [record] = read_records([args.record])
    cfg, _ = prepare_config(record['config'], record.get('cfg_options'), args.data_root,
                            'both', record['input_size'], record['batch_size'])
    check_dataset_files(cfg, [f'{args.split}_dataloader'])
    out = rescore_record(record, cfg, args.split)
    print(f'[time-to-accuracy] wrote {atomic_write_json(args.out, out)}')


def summarize(args: argparse.Namespace) -> None:
    from pennfudan_vit.benchmark.time_to_accuracy import (format_summary, read_records,
                                                          summarize)
    summary = summarize(read_records(args.records), args.ours)
    print(format_summary(summary))
    if args.out:
        print(f'[time-to-accuracy] wrote {atomic_write_json(args.out, summary)}')
    if args.plot:
        from pennfudan_vit.visualization.time_to_accuracy import plot_time_to_accuracy
        print(f'[time-to-accuracy] wrote {plot_time_to_accuracy(summary, args.plot)}')


@cli_entry
def main() -> None:
    args = parse_args()
    dict(run=run, rescore=rescore, summarize=summarize)[args.command](args)


if __name__ == '__main__':
    main()
