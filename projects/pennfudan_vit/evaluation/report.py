"""Evaluation report of COCO result files: JSON-ready dict plus printable tables.

Shared by ``tools/test.py`` and ``tools/eval_results.py``.
"""
from __future__ import annotations

import math
import sys
from typing import Callable, Dict, List, Optional, Tuple

from ..errors import UserError
from .bootstrap import METRICS, BootstrapResult, bootstrap_from_eval
from .ground_truth import GtLike, load_gt
from .inputs import IOU_TYPES
from .paired import PairedBootstrapResult, paired_diff_from_evals
from .per_image import PerImageEval, evaluate_per_image
from .protocols import BatchMeanResult, Protocol, batch_mean_from_eval, parse_protocol


def _fmt(x: Optional[float]) -> str:
    return 'n/a' if x is None or not math.isfinite(x) else f'{x:.4f}'


def print_warning(message: str) -> None:
    """Print ``warning: message`` on stderr."""
    print(f'warning: {message}', file=sys.stderr)


def format_result(res: BootstrapResult, source: str, protocol: Protocol = Protocol()) -> str:
    """Table: metric, point estimate, interval, bootstrap std."""
    pct = f'{res.confidence:.0%} CI'
    how = '' if str(protocol) == 'coco' else f', protocol {protocol}'
    lines = [
        f'{res.iou_type}: {source}  ({res.num_images} images, '
        f'{res.n} bootstrap replicates, seed {res.seed}{how})',
        f'  {"metric":<7}{"point":>9}   {pct:<20}{"boot std":>9}',
    ]
    for name in METRICS:
        m = res.metrics[name]
        ci = f'[{_fmt(m.lower)}, {_fmt(m.upper)}]'
        lines.append(f'  {name:<7}{_fmt(m.point):>9}   {ci:<20}{_fmt(m.std):>9}')
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
        f'  {"metric":<7}{"A":>8}{"B":>8}{"B-A":>9}   {pct:<20}{"P(B>A)":>7}',
    ]
    for name in METRICS:
        d = res.metrics[name]
        ci = f'[{_fmt(d.lower)}, {_fmt(d.upper)}]'
        frac = 'n/a' if not math.isfinite(d.frac_b_better) else f'{d.frac_b_better:.3f}'
        lines.append(f'  {name:<7}{_fmt(d.point_a):>8}{_fmt(d.point_b):>8}'
                     f'{_fmt(d.point):>9}   {ci:<20}{frac:>7}')
    return '\n'.join(lines)


def format_batch_mean(res: BatchMeanResult, source: str) -> str:
    """Table: mean of per-batch AP beside the whole-split AP, per-batch range."""
    d = res.to_dict()
    lines = [
        f'{res.iou_type}: {source}  (protocol {res.protocol}: {res.num_images} images in '
        f'{d["num_batches"]} batches, each scored alone, then averaged)',
        f'  {"metric":<7}{"batch mean":>11}{"whole split":>13}   per-batch range',
    ]
    for name in METRICS:
        m = d['metrics'][name]
        lines.append(f'  {name:<7}{_fmt(m["point"]):>11}{_fmt(d["whole_split"][name]):>13}'
                     f'   [{_fmt(m["min"])}, {_fmt(m["max"])}]')
    excl = d['metrics']['AP']['n_excluded']
    if excl:
        lines.append(f'  ({excl} batches without ground truth left out of the mean)')
    return '\n'.join(lines)


def _empty_warning(pie: PerImageEval, path: str, protocol: Protocol) -> Optional[str]:
    if pie.num_detections:
        return None
    where = path if protocol.score_thr is None else \
        f'{path} with score >= {protocol.score_thr:g}'
    return f'no detections in {where}: AP is 0 by definition'


def bootstrap_report(gt: GtLike, result_files: Dict[str, str], n: int = 1000,
                     seed: int = 0, confidence: float = 0.95,
                     compare_prefix: Optional[str] = None,
                     protocol: str | Protocol = 'coco',
                     on_warning: Optional[Callable[[str], None]] = print_warning,
                     ) -> Tuple[dict, List[str]]:
    """Evaluate ``{'bbox': path, 'segm': path}`` once per iou type and bootstrap.

    Returns the JSON report and the printed tables. With ``compare_prefix``,
    ``PREFIX.<iou_type>.json`` is baseline A of a paired bootstrap (this is B).
    ``protocol`` (see :func:`parse_protocol`) may threshold scores and replace
    the bootstrap by a per-batch mean. Warnings (e.g. an empty result file) go
    to ``report['warnings']`` and to ``on_warning`` (stderr by default).
    """
    protocol = parse_protocol(protocol)
    if compare_prefix and not protocol.whole_split:
        raise UserError(f'--compare needs a whole-split protocol (coco or score-thr:T), '
                        f'not {protocol}')
    gt = load_gt(gt)
    report: dict = {'n': n, 'seed': seed, 'confidence': confidence,
                    'num_images': len(gt.getImgIds()), 'protocol': str(protocol),
                    'warnings': []}
    tables = []
    compare: dict = {}

    def evaluate(path: str, iou_type: str) -> PerImageEval:
        pie = evaluate_per_image(gt, path, iou_type, protocol.score_thr)
        message = _empty_warning(pie, path, protocol)
        if message:
            report['warnings'].append(message)
            if on_warning is not None:
                on_warning(message)
        return pie

    for iou_type in IOU_TYPES:
        path = result_files.get(iou_type)
        if not path:
            continue
        pie = evaluate(path, iou_type)
        if not protocol.whole_split:
            batch = batch_mean_from_eval(pie, protocol)
            report[iou_type] = dict(batch.to_dict(), results=path)
            tables.append(format_batch_mean(batch, path))
            continue
        res = bootstrap_from_eval(pie, n, seed, confidence)
        report[iou_type] = dict(res.to_dict(), results=path)
        tables.append(format_result(res, path, protocol))
        if compare_prefix:
            base_path = f'{compare_prefix}.{iou_type}.json'
            pie_base = evaluate(base_path, iou_type)
            diff = paired_diff_from_evals(pie_base, pie, n, seed, confidence)
            compare[iou_type] = dict(diff.to_dict(), results_a=base_path, results_b=path)
            tables.append(format_diff(diff, base_path))
    if compare_prefix:
        report['compare'] = dict(compare, baseline_prefix=compare_prefix)
    return report, tables
