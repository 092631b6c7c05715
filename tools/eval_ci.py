"""COCO AP / AP50 / AP75 with bootstrap 95% intervals over test images.

    python tools/eval_ci.py GT_JSON --bbox RUN.bbox.json --segm RUN.segm.json \
        [--n 1000] [--seed 0] [--out metrics_ci.json] [--compare BASE_PREFIX]

The results files are those mmdet's CocoMetric writes with
``outfile_prefix``. ``--compare BASE_PREFIX`` reads ``BASE_PREFIX.bbox.json``
/ ``BASE_PREFIX.segm.json`` as baseline A and adds a paired bootstrap of
(this run) - (baseline) on the same resampled images. See docs/evaluation.md.

Bad input exits with status 2 and one message naming the file; the output
file is written (atomically) only after everything succeeded.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

try:
    import pennfudan_vit  # noqa: F401
except ModuleNotFoundError as e:  # not installed: use the checkout
    if e.name != 'pennfudan_vit':
        raise
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'projects'))

from pennfudan_vit.apis import atomic_write_json  # noqa: E402
from pennfudan_vit.evaluation import EvalInputError  # noqa: E402
from pennfudan_vit.evaluation.report import IOU_TYPES, bootstrap_report  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='COCO AP with percentile-bootstrap confidence intervals '
        '(resampling test images).')
    parser.add_argument('gt', metavar='GT_JSON', help='COCO ground truth')
    parser.add_argument('--bbox', help='box results (*.bbox.json)')
    parser.add_argument('--segm', help='mask results (*.segm.json)')
    parser.add_argument('--n', type=int, default=1000,
                        help='bootstrap replicates (default 1000)')
    parser.add_argument('--seed', type=int, default=0,
                        help='numpy default_rng seed (default 0)')
    parser.add_argument('--confidence', type=float, default=0.95,
                        help='interval coverage (default 0.95)')
    parser.add_argument('--out', default='metrics_ci.json',
                        help='JSON report (default metrics_ci.json)')
    parser.add_argument(
        '--compare', metavar='BASE_PREFIX',
        help='baseline results prefix: reads BASE_PREFIX.bbox.json / '
        '.segm.json and reports a paired bootstrap of this run - baseline')
    args = parser.parse_args(argv)
    if not (args.bbox or args.segm):
        parser.error('give at least one of --bbox / --segm')
    if args.n < 1:
        parser.error('--n must be >= 1')
    if not 0 < args.confidence < 1:
        parser.error('--confidence must be in (0, 1)')
    return args


def run(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """Evaluate everything; return the JSON report and the printed tables."""
    files = {t: getattr(args, t) for t in IOU_TYPES if getattr(args, t)}
    report, tables = bootstrap_report(args.gt, files, args.n, args.seed, args.confidence,
                                      args.compare)
    return dict(report, gt=args.gt), tables


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    out_dir = os.path.dirname(os.path.abspath(args.out))
    if not os.path.isdir(out_dir):
        print(f'eval_ci: error: {args.out}: output directory does not exist',
              file=sys.stderr)
        return 2
    try:
        report, tables = run(args)
    except EvalInputError as e:
        print(f'eval_ci: error: {e}', file=sys.stderr)
        return 2
    try:
        atomic_write_json(args.out, report)
    except OSError as e:
        print(f'eval_ci: error: {args.out}: cannot write report '
              f'({e.strerror or e})', file=sys.stderr)
        return 2
    print('\n\n'.join(tables))
    print(f'\nwrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
