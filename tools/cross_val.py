"""K-fold cross-validation: one model per fold, COCO mAP per fold, mean ± std.

    python tools/cross_val.py CONFIG --folds K [--data-root DIR] [--work-dir W]
        [--checkpoint {last,best}] [--also-test] [--bootstrap N] [--input-size H W]
        [--launcher {none,pytorch,slurm}] [--gpus N] [--cfg-options k=v ...]

Fold k gets a child config ``W/fold{k}.py`` that inherits CONFIG and points it
at ``annotations/folds/fold{k}_train.json`` (training) and ``fold{k}_val.json``
(validation and testing: the images the fold's model never saw).
tools/train.py trains it into ``W/fold{k}``, tools/test.py evaluates it (with
``--also-test`` also on the fixed test split, ``W/fold{k}_test_split.py``).
``W/fold{k}/cv_result.json`` marks a finished fold: rerunning the same command
skips finished folds and resumes interrupted ones. Per-fold bbox / segm mAP
and AP50 with the mean and sample std over folds are printed and saved to
``W/cv_summary.{json,md}``. The folds come from
``data_prep/pennfudan_to_coco.py --folds K``; the logic lives in
``pennfudan_vit.cross_val``.
"""
import argparse
import os.path as osp
import signal
import sys
from typing import Optional, Sequence

from pennfudan_vit.config import add_config_args
from pennfudan_vit.errors import cli_entry

TOOLS = osp.dirname(osp.abspath(__file__))


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='K-fold cross-validation of a config',
                                     conflict_handler='resolve')
    add_config_args(parser, launcher=False)  # --data-root, --input-size (and --cfg-options)
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--folds', type=int, required=True,
                        help='number of folds K (the converter\'s --folds K)')
    parser.add_argument('--work-dir', help='default: ./work_dirs/cv_<config name>')
    parser.add_argument('--checkpoint', choices=['last', 'best'], default='last',
                        help='checkpoint of each fold to evaluate; "best" is selected on '
                        'the held-out fold itself, so its score is optimistic')
    parser.add_argument('--also-test', action='store_true',
                        help='also evaluate every fold model on the fixed test split')
    parser.add_argument('--bootstrap', type=int, default=1000,
                        help='bootstrap replicates per evaluation (tools/test.py; 0: off)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='pytorch: torchrun per step (tools/torchrun.sh); slurm: srun '
                        'per step (PARTITION, GPUS_PER_NODE, CPUS_PER_TASK, SRUN_ARGS)')
    parser.add_argument('--gpus', type=int, default=1,
                        help='processes per step with --launcher pytorch/slurm')
    # kept as typed: they are passed on verbatim to every train.py / test.py call
    parser.add_argument('--cfg-options', nargs='+', default=[], metavar='KEY=VALUE',
                        help='passed to every train.py / test.py call; keys must exist')
    return parser.parse_args(argv)


@cli_entry
def main() -> None:
    args = parse_args()
    from pennfudan_vit.cross_val import prepare, run_fold, start, write_summary
    from pennfudan_vit.engine import lock_work_dir
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop the step, as Ctrl-C
    cv = prepare(**vars(args), tools_dir=TOOLS)
    lock_work_dir(cv.work_dir, 'another tools/cross_val.py')
    start(cv)
    print(f'[cross_val] {cv.folds} folds of {cv.config} on {cv.data_root} '
          f'(split seed {cv.split.seed}) -> {cv.work_dir}; evaluating the '
          f'{cv.checkpoint} checkpoint on each held-out fold'
          f'{" and the test split" if cv.also_test else ""}', flush=True)
    try:
        results = [run_fold(cv, k) for k in range(cv.folds)]
    except KeyboardInterrupt:
        sys.exit('error: interrupted; rerun the same command to resume')
    text = write_summary(cv, results)
    print('\n' + text)
    print(f'[cross_val] summary: {osp.join(cv.work_dir, "cv_summary.json")}, '
          f'{osp.join(cv.work_dir, "cv_summary.md")}')


if __name__ == '__main__':
    main()
