"""Evaluate a checkpoint: COCO bbox + segm mAP with a bootstrap 95% interval.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
        [--show-dir DIR] [--bootstrap N] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]

Each run writes into its own folder ``WORK_DIR/test_<time>/``: the COCO result
files (``results.bbox.json``, ``results.segm.json``), ``metrics.json`` (COCOeval
stats and, unless ``--bootstrap 0``, the bootstrap intervals), the log and the
painted images of ``--show-dir``. The checkpoint must match the config.
"""
import argparse
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.dist import get_rank

from pennfudan_vit.config import (add_config_args, check_dataset_files, default_work_dir,
                                  drop_pretrained, load_from_args)
from pennfudan_vit.engine import build_runner, check_checkpoint_for_config, exit_distributed
from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.evaluation.run_report import write_test_report


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test folder is created')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='save painted predictions to '
                        'WORK_DIR/test_<time>/SHOW_DIR')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='score threshold for --show-dir pictures')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates for 95%% intervals (0: off)')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    add_config_args(parser)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_cfg(args: argparse.Namespace) -> Config:
    """The config for testing ``args.checkpoint`` into a fresh folder."""
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    if args.out and not args.out.endswith(('.pkl', '.pickle')):
        raise UserError(f'--out must be a .pkl file, got {args.out}')
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    cfg = load_from_args(args)
    work_dir = default_work_dir(cfg, args.config, args.work_dir)
    # a fresh folder per test run: earlier results are never overwritten
    cfg.work_dir = osp.join(work_dir, time.strftime('test_%Y%m%d_%H%M%S'))
    drop_pretrained(cfg)  # weights come from the checkpoint
    cfg.load_from = args.checkpoint
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [
        cfg.test_evaluator]
    for ev in evaluators:
        if ev.get('type') == 'CocoMetric':
            ev['outfile_prefix'] = osp.join(cfg.work_dir, 'results')
    if args.out:
        evaluators.append(dict(type='DumpDetResults', out_file_path=args.out))
    cfg.test_evaluator = evaluators
    if args.show_dir:
        # mmdet joins work_dir/<timestamp>/test_out_dir; an absolute path is kept as is
        cfg.default_hooks.visualization.update(
            draw=True, interval=1, score_thr=args.score_thr,
            test_out_dir=osp.abspath(osp.join(cfg.work_dir, args.show_dir)))
    check_dataset_files(cfg, ['test_dataloader'])
    return cfg


def report(args: argparse.Namespace, cfg: Config, checkpoint: dict, metrics: dict) -> None:
    coco = next(ev for ev in cfg.test_evaluator if ev.get('type') == 'CocoMetric')
    out, tables = write_test_report(
        osp.join(cfg.work_dir, 'metrics.json'), metrics, coco['ann_file'],
        coco['outfile_prefix'], n=args.bootstrap, seed=args.seed,
        config=args.config, checkpoint=osp.abspath(args.checkpoint),
        train_seed=(checkpoint.get('meta') or {}).get('seed'))
    print('\n[test] COCOeval over the whole split, 95% bootstrap intervals over its images:')
    print('\n'.join(tables) if tables else '[test] (bootstrap off)')
    print(f'\n[test] metrics: {out}')
    for iou_type in ('bbox', 'segm'):
        if osp.isfile(f'{coco["outfile_prefix"]}.{iou_type}.json'):
            print(f'[test] {iou_type} results: {coco["outfile_prefix"]}.{iou_type}.json')
    if args.show_dir:
        print(f'[test] painted images: {cfg.default_hooks.visualization.test_out_dir}')


@cli_entry
def main() -> None:
    args = parse_args()
    cfg = build_cfg(args)
    checkpoint = check_checkpoint_for_config(cfg, args.checkpoint, args.config)
    metrics = build_runner(cfg).test()
    if get_rank() == 0:
        report(args, cfg, checkpoint, metrics)
    exit_distributed()

if __name__ == '__main__':
    main()
