"""Time to accuracy: AP after equal wall-clock training, ours against the torchvision
reference (``run`` one system and seed, ``summarize`` seeds and curves). docs/benchmarks.md"""
import argparse
import math
import os.path as osp

from pennfudan_vit.config import add_config_args
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest='command', required=True)
    run = sub.add_parser('run', help='train one system for a time budget and score it')
    run.add_argument('config', help='a ViT config')
    run.add_argument('--system', choices=['ours', 'reference'], required=True)
    run.add_argument('--work-dir', required=True, help='snapshots and record.json go here')
    run.add_argument('--budget', type=float, default=900, help='training seconds (900)')
    run.add_argument('--every', type=float, default=150, help='snapshot interval, s (150)')
    run.add_argument('--warmup', type=float, default=60, help='lr warm-up seconds (60)')
    run.add_argument('--seed', type=int, default=0)
    run.add_argument('--threads', type=int, help='torch intra-op threads')
    run.add_argument('--batch-size', type=int, help="default: the config's train batch")
    run.add_argument('--split', choices=['val', 'test'], default='test')
    run.add_argument('--label', help='curve name of a variant (default: the system)')
    add_config_args(run, launcher=False)
    summ = sub.add_parser('summarize', help='seed statistics and curves of several runs')
    summ.add_argument('records', nargs='+', help='record.json files of runs')
    summ.add_argument('--out', help='write the summary JSON here')
    summ.add_argument('--plot', help='write the AP-versus-time picture here')
    summ.add_argument('--ours', default='ours', help='the curve compared with the others')
    args = parser.parse_args(argv)
    if args.command == 'run' and (min(args.every, args.threads or 1, args.batch_size or 1) <= 0
                                  or args.warmup < 0 or args.every > args.budget):
        parser.error('need --every, --threads, --batch-size > 0, --warmup >= 0 and '
                     '--every <= --budget')
    from pennfudan_bench import tta
    from pennfudan_bench.step_bench import prepare_config
    if args.command == 'summarize':
        summary = tta.tta_summary(tta.read_records(args.records), args.ours)
        print(tta.format_tta_summary(summary))
        for out, write in ((args.out, atomic_write_json), (args.plot, tta.plot_tta_summary)):
            if out:
                print(f'[time-to-accuracy] wrote {write(out, summary)}')
        return
    import torch
    from pennfudan_vit.engine import lock_work_dir
    record_path = osp.join(args.work_dir, 'record.json')
    if osp.exists(record_path):
        raise UserError(f'{record_path} exists: use another --work-dir or remove it')
    torch.set_num_threads(args.threads or torch.get_num_threads())
    cfg, _ = prepare_config(args.config, args.cfg_options, args.data_root, 'both',
                            args.input_size, args.batch_size, [f'{args.split}_dataloader'])
    lock_work_dir(args.work_dir, 'a time-to-accuracy run')
    marks = [min(args.every * i, args.budget) for i in range(1, math.ceil(args.budget
                                                                          / args.every) + 1)]
    record = tta.run_time_to_accuracy(cfg, args.system, marks, args.work_dir, args.warmup,
                                      args.seed, args.split)
    record.update(config=args.config, cfg_options=args.cfg_options or {}, label=args.label)
    print(f'[time-to-accuracy] wrote {atomic_write_json(record_path, record)}')


if __name__ == '__main__':
    main()
