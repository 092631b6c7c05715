"""Evaluate COCO result files with bootstrap intervals: AP / AP50 / AP75, 95% CI.

    python tools/eval_results.py GT_JSON --bbox RUN.bbox.json --segm RUN.segm.json \
        [--n 1000] [--seed 0] [--confidence 0.95] [--out metrics_ci.json] \
        [--compare BASE_PREFIX] [--protocol coco|batch-mean:N|score-thr:T]

The result files are those mmdet's CocoMetric writes with ``outfile_prefix``
(``tools/test.py`` writes ``results.bbox.json`` / ``results.segm.json``).
``--compare BASE_PREFIX`` reads ``BASE_PREFIX.bbox.json`` / ``.segm.json`` as
baseline A and adds a paired bootstrap of (this run) - (baseline) on the same
resampled images. ``--protocol`` reproduces how figures reported elsewhere
were computed. See docs/evaluation.md.

Bad input exits with status 2 and one message naming the file; the output
file is written (atomically) only after everything succeeded.
"""
from __future__ import annotations

import argparse
import os
import sys

from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.evaluation import IOU_TYPES, PROTOCOL_HELP, bootstrap_report, parse_protocol
from pennfudan_vit.fileio import atomic_write_json


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line; flag ranges are checked here, files later."""
    parser = argparse.ArgumentParser(
        description='Evaluate COCO result files: AP / AP50 / AP75 with percentile-bootstrap '
        'confidence intervals (resampling test images).')
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
    parser.add_argument('--protocol', default='coco', help=PROTOCOL_HELP.replace('%', '%%'))
    args = parser.parse_args(argv)
    if not (args.bbox or args.segm):
        parser.error('give at least one of --bbox / --segm')
    if args.n < 1:
        parser.error('--n must be >= 1')
    if not 0 < args.confidence < 1:
        parser.error('--confidence must be in (0, 1)')
    return args


def check_out(path: str) -> None:
    """Refuse an output path that cannot be written, before any evaluation."""
    folder = os.path.dirname(os.path.abspath(path))
    while not os.path.exists(folder):  # atomic_write_json creates missing folders
        folder = os.path.dirname(folder)
    if os.path.isdir(path):
        raise UserError(f'--out {path}: is a directory; give a JSON file path')
    if not os.path.isdir(folder) or not os.access(folder, os.W_OK):
        raise UserError(f'--out {path}: {folder} is not a writable folder')


@cli_entry
def main(argv: list[str] | None = None) -> int:
    """Evaluate, print the tables, write the JSON report."""
    args = parse_args(argv)
    protocol = parse_protocol(args.protocol)
    check_out(args.out)
    files = {t: getattr(args, t) for t in IOU_TYPES if getattr(args, t)}
    report, tables = bootstrap_report(args.gt, files, args.n, args.seed, args.confidence,
                                      args.compare, protocol)
    atomic_write_json(args.out, dict(report, gt=args.gt))
    print('\n\n'.join(tables))
    print(f'\nwrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
