"""Paired bootstrap of metric(B) - metric(A): both prediction sets on the same resamples."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .bootstrap import METRICS, JsonResult, draw_samples, percentiles, spread
from .per_image import PerImageEval


@dataclass
class DiffCI(JsonResult):
    """Paired bootstrap summary of ``metric(B) - metric(A)``.

    ``frac_b_better`` / ``frac_tie`` are fractions of the valid replicates in
    which B is strictly better / exactly equal.
    """
    point_a: float
    point_b: float
    point: float
    mean: float
    std: float
    lower: float
    upper: float
    frac_b_better: float
    frac_tie: float
    n_valid: int
    n_excluded: int


@dataclass
class PairedBootstrapResult(JsonResult):
    """Paired bootstrap of B - A on the same ground truth and resamples."""
    iou_type: str
    n: int
    seed: int
    confidence: float
    num_images: int
    metrics: dict[str, DiffCI]


def paired_diff_from_evals(pie_a: PerImageEval, pie_b: PerImageEval, n: int = 1000,
                           seed: int = 0, confidence: float = 0.95) -> PairedBootstrapResult:
    """Paired bootstrap of B - A: both sets see the same resampled images."""
    if pie_a.img_ids != pie_b.img_ids or pie_a.cat_ids != pie_b.cat_ids:
        raise ValueError('paired bootstrap needs both prediction sets evaluated on the '
                         'same ground truth')
    if pie_a.iou_type != pie_b.iou_type:
        raise ValueError('paired bootstrap needs the same iou_type')
    pct = percentiles(confidence)
    pa, pb = pie_a.metrics(), pie_b.metrics()
    samples = draw_samples(pie_a.num_images, n, seed)
    ra, rb = pie_a.metrics_batch(samples), pie_b.metrics_batch(samples)
    metrics = {}
    for j, name in enumerate(METRICS):
        ok = (ra[:, j] > -1) & (rb[:, j] > -1)
        diff = rb[ok, j] - ra[ok, j]
        defined = pa[j] > -1 and pb[j] > -1
        metrics[name] = DiffCI(
            float(pa[j]), float(pb[j]), float(pb[j] - pa[j]) if defined else math.nan,
            *spread(diff, pct),
            frac_b_better=float(np.mean(diff > 0)) if diff.size else math.nan,
            frac_tie=float(np.mean(diff == 0)) if diff.size else math.nan,
            n_valid=int(diff.size), n_excluded=int(n - diff.size))
    return PairedBootstrapResult(pie_a.iou_type, n, seed, confidence, pie_a.num_images, metrics)
