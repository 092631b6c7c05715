"""Evaluation report of COCO result files: JSON-ready dict plus printable tables
(``format_<result>``), shared by ``tools/test.py`` and ``tools/eval_results.py``."""
from __future__ import annotations

import math
import sys
from typing import Callable, Dict, List, Optional, Tuple

from ..errors import UserError
from .bootstrap import BootstrapResult, bootstrap_from_eval
from .ground_truth import GtLike, load_gt
from .inputs import IOU_TYPES
from .paired import PairedBootstrapResult, paired_diff_from_evals
from .per_image import PerImageEval, evaluate_per_image
from .protocols import BatchMeanResult, Protocol, batch_mean_from_eval, parse_protocol


def _fmt(x: Optional[float]) -> str:
    return 'n/a' if x is None or not math.isfinite(x) else f'{x:.4f}'


def _ci(lower: Optional[float], upper: Optional[float]) -> str:
    return f'[{_fmt(lower)}, {_fmt(upper)}]'


def _table(title: str, header: str, rows: List[str], note: str = '') -> str:
    return '\n'.join([title, header] + rows + ([f'  ({note})'] if note else []))


def format_bootstrap(res: BootstrapResult, source: str, protocol: Protocol = Protocol()) -> str:
    """Table: metric, point estimate, interval, bootstrap std."""
    how = '' if str(protocol) == 'coco' else f', protocol {protocol}'
    excl = res.metrics['AP'].n_excluded
    return _table(
        f'{res.iou_type}: {source}  ({res.num_images} images, {res.n} bootstrap replicates, '
        f'seed {res.seed}{how})',
        f'  {"metric":<7}{"point":>9}   {f"{res.confidence:.0%} CI":<20}{"boot std":>9}',
        [f'  {name:<7}{_fmt(m.point):>9}   {_ci(m.lower, m.upper):<20}{_fmt(m.std):>9}'
         for name, m in res.metrics.items()],
        f'{excl} replicates without ground truth excluded' if excl else '')


def format_paired(res: PairedBootstrapResult, base: str) -> str:
    """Table of the paired difference B - A."""
    return _table(
        f'{res.iou_type}: this run (B) - {base} (A), paired bootstrap ({res.n} replicates, '
        f'seed {res.seed})',
        f'  {"metric":<7}{"A":>8}{"B":>8}{"B-A":>9}   {f"{res.confidence:.0%} CI":<20}'
        f'{"P(B>A)":>7}',
        [f'  {name:<7}{_fmt(d.point_a):>8}{_fmt(d.point_b):>8}{_fmt(d.point):>9}   '
         f'{_ci(d.lower, d.upper):<20}'
         f'{"n/a" if not math.isfinite(d.frac_b_better) else f"{d.frac_b_better:.3f}":>7}'
         for name, d in res.metrics.items()])


def format_batch_mean(res: BatchMeanResult, source: str) -> str:
    """Table: mean of per-batch AP beside the whole-split AP, per-batch range."""
    d = res.to_dict()
    excl = d['metrics']['AP']['n_excluded']
    return _table(
        f'{res.iou_type}: {source}  (protocol {res.protocol}: {res.num_images} images in '
        f'{d["num_batches"]} batches, each scored alone, then averaged)',
        f'  {"metric":<7}{"batch mean":>11}{"whole split":>13}   per-batch range',
        [f'  {name:<7}{_fmt(m["point"]):>11}{_fmt(d["whole_split"][name]):>13}   '
         f'{_ci(m["min"], m["max"])}' for name, m in d['metrics'].items()],
        f'{excl} batches without ground truth left out of the mean' if excl else '')


def bootstrap_report(gt: GtLike, result_files: Dict[str, str], n: int = 1000,
                     seed: int = 0, confidence: float = 0.95,
                     compare_prefix: Optional[str] = None,
                     protocol: str | Protocol = 'coco',
                     on_warning: Optional[Callable[[str], None]] = lambda m: print(f'warning: {m}',
                                                                                   file=sys.stderr),
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
        if not pie.num_detections:
            where = path if protocol.score_thr is None else \
                f'{path} with score >= {protocol.score_thr:g}'
            report['warnings'].append(f'no detections in {where}: AP is 0 by definition')
            if on_warning is not None:
                on_warning(report['warnings'][-1])
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
        tables.append(format_bootstrap(res, path, protocol))
        if compare_prefix:
            base_path = f'{compare_prefix}.{iou_type}.json'
            pie_base = evaluate(base_path, iou_type)
            diff = paired_diff_from_evals(pie_base, pie, n, seed, confidence)
            compare[iou_type] = dict(diff.to_dict(), results_a=base_path, results_b=path)
            tables.append(format_paired(diff, base_path))
    if compare_prefix:
        report['compare'] = dict(compare, baseline_prefix=compare_prefix)
    return report, tables
