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
import json
import math
import os
import sys
import tempfile
from pathlib import Path

try:
    import pennfudan_vit  # noqa: F401
except ModuleNotFoundError as e:  # not installed: use the checkout
    if e.name != 'pennfudan_vit':
        raise
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / 'projects'))

from pennfudan_vit.evaluation.bootstrap import (  # noqa: E402
    METRICS, BootstrapResult, EvalInputError, PairedBootstrapResult,
    bootstrap_from_eval, evaluate_per_image, load_gt, paired_diff_from_evals)

IOU_TYPES = ('bbox', 'segm')


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


def _fmt(x: float) -> str:
    return 'n/a' if x is None or not math.isfinite(x) else f'{x:.4f}'


def format_result(res: BootstrapResult, source: str) -> str:
    """Table: metric, point estimate, interval, bootstrap std."""
    pct = f'{res.confidence:.0%} CI'
    lines = [
        f'{res.iou_type}: {source}  ({res.num_images} images, '
        f'{res.n} bootstrap replicates, seed {res.seed})',
        f'  {"metric":<7}{"point":>9}   {pct:<20}{"boot std":>9}',
    ]
    for name in METRICS:
        m = res.metrics[name]
        ci = f'[{_fmt(m.lower)}, {_fmt(m.upper)}]'
        lines.append(f'  {name:<7}{_fmt(m.point):>9}   {ci:<20}'
                     f'{_fmt(m.std):>9}')
    excl = res.metrics['AP'].n_excluded
    if excl:
        lines.append(f'  ({excl} replicates without ground truth excluded)')
    return '\n'.join(lines)


def format_diff(res: PairedBootstrapResult, base: str) -> str:
    """Table of the paired difference B - A."""
    pct = f'{res.confidence:.0%} CI'
    lines = [
        f'{res.iou_type}: this run (B) - {base} (A), paired bootstrap '
        f'({res.n} replicates, seed {res.seed})',
        f'  {"metric":<7}{"A":>8}{"B":>8}{"B-A":>9}   {pct:<20}'
        f'{"P(B>A)":>7}',
    ]
    for name in METRICS:
        d = res.metrics[name]
        ci = f'[{_fmt(d.lower)}, {_fmt(d.upper)}]'
        frac = 'n/a' if not math.isfinite(d.frac_b_better) else \
            f'{d.frac_b_better:.3f}'
        lines.append(f'  {name:<7}{_fmt(d.point_a):>8}{_fmt(d.point_b):>8}'
                     f'{_fmt(d.point):>9}   {ci:<20}{frac:>7}')
    return '\n'.join(lines)


def write_json_atomic(path: str, obj: dict) -> None:
    """Write via a temp file + rename so a failure never leaves a partial."""
    text = json.dumps(obj, indent=2, allow_nan=False)
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix='.eval_ci.', suffix='.tmp',
                               dir=directory)
    try:
        with os.fdopen(fd, 'w', encoding='utf-8') as f:
            f.write(text + '\n')
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def run(args: argparse.Namespace) -> tuple[dict, list[str]]:
    """Evaluate everything; return the JSON report and the printed tables."""
    gt = load_gt(args.gt)
    report: dict = {
        'gt': args.gt, 'n': args.n, 'seed': args.seed,
        'confidence': args.confidence, 'num_images': len(gt.getImgIds())
    }
    tables = []
    compare: dict = {}
    for iou_type in IOU_TYPES:
        path = getattr(args, iou_type)
        if not path:
            continue
        pie = evaluate_per_image(gt, path, iou_type)
        res = bootstrap_from_eval(pie, args.n, args.seed, args.confidence)
        report[iou_type] = dict(res.to_dict(), results=path)
        tables.append(format_result(res, path))
        if args.compare:
            base_path = f'{args.compare}.{iou_type}.json'
            pie_base = evaluate_per_image(gt, base_path, iou_type)
            diff = paired_diff_from_evals(pie_base, pie, args.n, args.seed,
                                          args.confidence)
            compare[iou_type] = dict(diff.to_dict(), results_a=base_path,
                                     results_b=path)
            tables.append(format_diff(diff, base_path))
    if args.compare:
        report['compare'] = dict(compare, baseline_prefix=args.compare)
    return report, tables


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
        write_json_atomic(args.out, report)
    except OSError as e:
        print(f'eval_ci: error: {args.out}: cannot write report '
              f'({e.strerror or e})', file=sys.stderr)
        return 2
    print('\n\n'.join(tables))
    print(f'\nwrote {args.out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
