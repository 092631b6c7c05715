"""Evaluate a checkpoint: COCO bbox + segm mAP with a bootstrap 95% interval.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
        [--show-dir DIR] [--bootstrap N] [--data-root DIR] [--cfg-options k=v ...]
        [--launcher {none,pytorch,slurm}]

Each run writes into its own folder ``WORK_DIR/test_<time>/``: the COCO result
files (``results.bbox.json``, ``results.segm.json``), ``metrics.json`` (COCOeval
stats and, unless ``--bootstrap 0``, the bootstrap intervals) and the log.
"""
import argparse
import os.path as osp
import sys
import time

from mmengine.config import Config

from pennfudan_vit.apis import add_config_args


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test (and evaluate) a detector')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where the test folder is created')
    parser.add_argument('--out', help='dump raw predictions to this pickle file')
    parser.add_argument('--show-dir', help='save painted predictions to WORK_DIR/test_<time>/SHOW_DIR')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='score threshold for --show-dir pictures')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates for 95%% intervals (0: off)')
    parser.add_argument('--seed', type=int, default=0, help='bootstrap seed')
    add_config_args(parser)
    return parser.parse_args()


def build_cfg(args: argparse.Namespace) -> Config:
    """Load the config for testing ``args.checkpoint`` into a fresh folder."""
    from pennfudan_vit.apis import check_dataset_files, default_work_dir, load_config
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')
    cfg = load_config(args.config, args.cfg_options, args.data_root, args.launcher,
                      args.local_rank)
    work_dir = default_work_dir(cfg, args.config, args.work_dir)
    # a fresh folder per test run: earlier results are never overwritten
    cfg.work_dir = osp.join(work_dir, time.strftime('test_%Y%m%d_%H%M%S'))
    cfg.load_from = args.checkpoint
    cfg.model.setdefault('backbone', {}).pop('init_cfg', None)  # weights come from the checkpoint
    evaluators = cfg.test_evaluator if isinstance(cfg.test_evaluator, list) else [cfg.test_evaluator]
    for ev in evaluators:
        if ev.get('type') == 'CocoMetric':
            ev['outfile_prefix'] = osp.join(cfg.work_dir, 'results')
    if args.out:
        if not args.out.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--out must be a .pkl file, got {args.out}')
        evaluators.append(dict(type='DumpDetResults', out_file_path=args.out))
    cfg.test_evaluator = evaluators
    if args.show_dir:
        vis = cfg.default_hooks.visualization
        vis.update(draw=True, test_out_dir=args.show_dir, score_thr=args.score_thr, interval=1)
    check_dataset_files(cfg, ['test_dataloader'])
    return cfg


def main() -> None:
    args = parse_args()
    import pennfudan_vit  # noqa: F401  (registers modules, safe torch.load globals)
    from mmdet.utils import register_all_modules
    from mmengine.dist import get_rank

    from pennfudan_vit.apis import TOOL_ERRORS, atomic_write_json, build_runner
    register_all_modules(init_default_scope=False)
    try:
        cfg = build_cfg(args)
        runner = build_runner(cfg)
    except TOOL_ERRORS as e:
        sys.exit(f'error: {e}')
    metrics = runner.test()
    if get_rank() != 0:
        return
    report = dict(config=args.config, checkpoint=osp.abspath(args.checkpoint),
                  metrics={k: float(v) for k, v in metrics.items()})
    coco_ev = next(ev for ev in cfg.test_evaluator if ev.get('type') == 'CocoMetric')
    prefix = coco_ev['outfile_prefix']
    report['result_files'] = {t: f'{prefix}.{t}.json' for t in ('bbox', 'segm')
                              if osp.isfile(f'{prefix}.{t}.json')}
    tables = []
    if args.bootstrap > 0 and report['result_files']:
        from pennfudan_vit.evaluation.report import bootstrap_report
        report['bootstrap'], tables = bootstrap_report(
            coco_ev['ann_file'], report['result_files'], n=args.bootstrap, seed=args.seed)
    out = osp.join(cfg.work_dir, 'metrics.json')
    atomic_write_json(out, report)
    print('\n[test] COCOeval over the whole split, 95% bootstrap intervals over its images:')
    print('\n'.join(tables) if tables else '[test] (bootstrap off)')
    print(f'\n[test] metrics: {out}')
    for t, path in report['result_files'].items():
        print(f'[test] {t} results: {path}')


if __name__ == '__main__':
    main()
