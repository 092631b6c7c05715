"""Paired bootstrap of metric(B) - metric(A): both prediction sets on the same resamples."""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from .bootstrap import METRICS, draw_samples, json_float, percentiles, summary
from .detections import DetsLike
from .ground_truth import GtLike, load_gt
from .per_image import PerImageEval, evaluate_per_image


@dataclass
class DiffCI:
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

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN as None)."""
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = json_float(v)
        return d


@dataclass
class PairedBootstrapResult:
    """Paired bootstrap of B - A on the same ground truth and resamples."""
    iou_type: str
    n: int
    seed: int
    confidence: float
    num_images: int
    metrics: dict[str, DiffCI]

    def to_dict(self) -> dict:
        """JSON-ready dict."""
        return {
            'iou_type': self.iou_type,
            'n': self.n,
            'seed': self.seed,
            'confidence': self.confidence,
            'num_images': self.num_images,
            'metrics': {k: v.to_dict() for k, v in self.metrics.items()},
        }


def paired_diff_from_evals(pie_a: PerImageEval, pie_b: PerImageEval,
                           n: int = 1000, seed: int = 0,
                           confidence: float = 0.95) -> PairedBootstrapResult:
    """Paired bootstrap of B - A: both sets see the same resampled images."""
    if pie_a.img_ids != pie_b.img_ids or pie_a.cat_ids != pie_b.cat_ids:
        raise ValueError('paired bootstrap needs both prediction sets '
                         'evaluated on the same ground truth')
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
        mean, std, lo, hi = summary(diff, pct)
        defined = pa[j] > -1 and pb[j] > -1
        metrics[name] = DiffCI(
            point_a=float(pa[j]),
            point_b=float(pb[j]),
            point=float(pb[j] - pa[j]) if defined else math.nan,
            mean=mean, std=std, lower=lo, upper=hi,
            frac_b_better=float(np.mean(diff > 0)) if diff.size else math.nan,
            frac_tie=float(np.mean(diff == 0)) if diff.size else math.nan,
            n_valid=int(diff.size), n_excluded=int(n - diff.size))
    return PairedBootstrapResult(pie_a.iou_type, n, seed, confidence,
                                 pie_a.num_images, metrics)


def paired_bootstrap_diff(gt: GtLike, dets_a: DetsLike, dets_b: DetsLike,
                          iou_type: str = 'bbox', n: int = 1000,
                          seed: int = 0,
                          confidence: float = 0.95) -> PairedBootstrapResult:
    """Paired bootstrap of metric(B) - metric(A) on the same ground truth."""
    gt_coco = load_gt(gt)
    pie_a = evaluate_per_image(gt_coco, dets_a, iou_type)
    pie_b = evaluate_per_image(gt_coco, dets_b, iou_type)
    return paired_diff_from_evals(pie_a, pie_b, n, seed, confidence)
