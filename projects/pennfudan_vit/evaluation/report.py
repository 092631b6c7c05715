"""Bootstrap report of COCO result files: JSON-ready dict plus printable tables.

Shared by ``tools/test.py --bootstrap`` and ``tools/eval_ci.py``.
"""
from __future__ import annotations

import math
from typing import Dict, List, Optional, Tuple

from .bootstrap import (METRICS, BootstrapResult, GtLike, PairedBootstrapResult,
                        bootstrap_from_eval, evaluate_per_image, load_gt,
                        paired_diff_from_evals)

IOU_TYPES = ('bbox', 'segm')


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


def bootstrap_report(gt: GtLike, result_files: Dict[str, str], n: int = 1000,
                     seed: int = 0, confidence: float = 0.95,
                     compare_prefix: Optional[str] = None) -> Tuple[dict, List[str]]:
    """Evaluate ``{'bbox': path, 'segm': path}`` once per iou type and bootstrap.

    Returns the JSON report and the printed tables. With ``compare_prefix``,
    ``PREFIX.<iou_type>.json`` is baseline A of a paired bootstrap (this is B).
    """
    gt = load_gt(gt)
    report: dict = {'n': n, 'seed': seed, 'confidence': confidence,
                    'num_images': len(gt.getImgIds())}
    tables = []
    compare: dict = {}
    for iou_type in IOU_TYPES:
        path = result_files.get(iou_type)
        if not path:
            continue
        pie = evaluate_per_image(gt, path, iou_type)
        res = bootstrap_from_eval(pie, n, seed, confidence)
        report[iou_type] = dict(res.to_dict(), results=path)
        tables.append(format_result(res, path))
        if compare_prefix:
            base_path = f'{compare_prefix}.{iou_type}.json'
            pie_base = evaluate_per_image(gt, base_path, iou_type)
            diff = paired_diff_from_evals(pie_base, pie, n, seed, confidence)
            compare[iou_type] = dict(diff.to_dict(), results_a=base_path, results_b=path)
            tables.append(format_diff(diff, base_path))
    if compare_prefix:
        report['compare'] = dict(compare, baseline_prefix=compare_prefix)
    return report, tables
