"""K-fold cross-validation: one model per fold, COCO mAP per fold, mean ± std.

    python tools/cross_val.py CONFIG --folds K [--data-root DIR] [--work-dir W]
        [--also-test] [--bootstrap N] [--input-size H W]
        [--cfg-options k=v ...] [--launcher {none,pytorch,slurm}]

Fold k gets a config ``W/fold{k}.py``: CONFIG with ``--cfg-options`` and ``--input-size``,
trained on ``annotations/folds/fold{k}_train.json`` into ``W/fold{k}``, validated and
tested with its last checkpoint on ``fold{k}_val.json`` (the images the fold's model
never saw; a best checkpoint picked on them would score them optimistically); with
``--also-test`` it is also tested on the fixed test split (``W/fold{k}_test_split.py``).
Every fold trains and tests in this process; for several GPUs start the whole command
under torchrun or srun: ``bash tools/torchrun.sh N tools/cross_val.py ... --launcher
pytorch``. ``W/fold{k}/cv_result.json`` marks a finished fold: rerunning the same command
skips finished folds and resumes interrupted ones. Per-fold bbox / segm mAP and AP50 with
the mean and sample std over folds are printed and saved to ``W/cv_summary.{json,md}``.
The folds come from ``data_prep/pennfudan_to_coco.py --folds K``; the logic lives in
``pennfudan_vit.cross_val``.
"""
import argparse
import os
import os.path as osp
import signal
import sys
from typing import Optional, Sequence

from mmengine.dist import get_rank

from pennfudan_vit.config import add_config_args, parse_config_args
from pennfudan_vit.cross_val.run import prepare, run_fold, write_fold_configs
from pennfudan_vit.cross_val.summary import write_summary
from pennfudan_vit.engine import exit_distributed, lock_work_dir
from pennfudan_vit.errors import cli_entry


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='K-fold cross-validation of a config')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--folds', type=int, required=True,
                        help='number of folds K (the converter\'s --folds K)')
    parser.add_argument('--work-dir', help='default: ./work_dirs/cv_<config name>')
    parser.add_argument('--also-test', action='store_true',
                        help='also evaluate every fold model on the fixed test split')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates per evaluation (0: off)')
    add_config_args(parser)  # --data-root, --input-size, --cfg-options, --launcher
    return parse_config_args(parser, argv)


@cli_entry
def main(argv: Optional[Sequence[str]] = None) -> None:
    args = parse_args(argv)
    cv = prepare(args.config, args.folds, args.cfg_options, data_root=args.data_root,
                 input_size=args.input_size, work_dir=args.work_dir,
                 also_test=args.also_test,
                 bootstrap=args.bootstrap, launcher=args.launcher)
    lock_work_dir(cv.work_dir, 'another tools/cross_val.py')
    write_fold_configs(cv)
    print(f'[cross_val] {cv.folds} folds of {cv.config} on {cv.data_root} '
          f'(split seed {cv.split.seed}) -> {cv.work_dir}; evaluating the '
          f'last checkpoint on each held-out fold'
          f'{" and the test split" if cv.also_test else ""}', flush=True)
    sigterm = signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop, as Ctrl-C
    try:
        results = [run_fold(cv, k) for k in range(cv.folds)]
    except KeyboardInterrupt:
        sys.exit('error: interrupted; rerun the same command to resume')
    finally:
        signal.signal(signal.SIGTERM, sigterm)
    if get_rank() == 0:
        print('\n' + write_summary(cv, results))
        print(f'[cross_val] summary: {osp.join(cv.work_dir, "cv_summary.json")}, '
              f'{osp.join(cv.work_dir, "cv_summary.md")}')
    exit_distributed()


if __name__ == '__main__':
    main()
