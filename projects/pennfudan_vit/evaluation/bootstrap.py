"""Percentile-bootstrap confidence intervals of COCO AP over test images.

A replicate is a multiset of image ids drawn with replacement (an image drawn
twice brings its ground truths and detections twice), re-accumulated from the
per-image records of one COCOeval pass (:class:`PerImageEval`).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, is_dataclass
from typing import Any

import numpy as np

from .detections import DetsLike
from .ground_truth import GtLike
from .per_image import PerImageEval, evaluate_per_image

#: Metrics reported, in ``COCOeval.stats`` order (stats[0], [1], [2]).
METRICS = ('AP', 'AP50', 'AP75')


def to_json(value: Any) -> Any:
    """Results as JSON values: dataclasses and containers recursively, NaN / inf as None."""
    if is_dataclass(value):
        value = {f.name: getattr(value, f.name) for f in fields(value)}
    if isinstance(value, dict):
        return {k: to_json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(v) for v in value]
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    return value


class JsonResult:
    """A result dataclass that writes itself as JSON."""

    def to_dict(self) -> dict:
        """JSON-ready dict (NaN as None)."""
        return to_json(self)


@dataclass
class MetricCI(JsonResult):
    """Point estimate and bootstrap summary of one metric.

    ``point`` is computed on the original image set and equals pycocotools'
    ``stats``; ``lower`` / ``upper`` are the percentile interval bounds;
    ``n_excluded`` replicates had no ground truth (metric undefined, -1 in
    pycocotools) and are left out of mean, std and interval.
    """
    point: float
    mean: float
    std: float
    lower: float
    upper: float
    n_valid: int
    n_excluded: int


@dataclass
class BootstrapResult(JsonResult):
    """Bootstrap confidence intervals of AP / AP50 / AP75 for one iou type."""
    iou_type: str
    n: int
    seed: int
    confidence: float
    num_images: int
    metrics: dict[str, MetricCI]
    coco_stats: list[float] = field(default_factory=list)


def draw_samples(num_images: int, n: int = 1000, seed: int = 0) -> np.ndarray:
    """``[n, num_images]`` image positions drawn with replacement."""
    if n < 1:
        raise ValueError(f'n must be >= 1, got {n}')
    if num_images < 1:
        raise ValueError('the ground truth has no images')
    return np.random.default_rng(seed).integers(0, num_images, size=(n, num_images))


def percentiles(confidence: float) -> tuple[float, float]:
    """Lower / upper percentile (0-100) of a central interval of ``confidence``."""
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must be in (0, 1), got {confidence}')
    alpha = (1 - confidence) / 2 * 100
    return alpha, 100 - alpha


def spread(values: np.ndarray, pct: tuple[float, float]) -> tuple:
    """``(mean, std, lower, upper)`` of replicate values; NaNs when there are none."""
    if values.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    lo, hi = np.percentile(values, pct)
    std = float(values.std(ddof=1)) if values.size > 1 else 0.0
    return float(values.mean()), std, float(lo), float(hi)


def bootstrap_from_eval(pie: PerImageEval, n: int = 1000, seed: int = 0,
                        confidence: float = 0.95) -> BootstrapResult:
    """Percentile bootstrap of AP / AP50 / AP75 from per-image records."""
    pct = percentiles(confidence)
    point = pie.metrics()
    reps = pie.metrics_batch(draw_samples(pie.num_images, n, seed))
    metrics = {}
    for j, name in enumerate(METRICS):
        vals = reps[:, j][reps[:, j] > -1]
        metrics[name] = MetricCI(float(point[j]), *spread(vals, pct), n_valid=int(vals.size),
                                 n_excluded=int(n - vals.size))
    return BootstrapResult(pie.iou_type, n, seed, confidence, pie.num_images, metrics,
                           pie.coco_stats)


def bootstrap_coco_metrics(gt: GtLike, dets: DetsLike, iou_type: str = 'bbox', n: int = 1000,
                           seed: int = 0, confidence: float = 0.95) -> BootstrapResult:
    """COCO AP / AP50 / AP75 with percentile-bootstrap intervals of ``n`` replicates.

    ``gt``: a ``COCO`` object, COCO dataset dict or path to the GT JSON; ``dets``:
    a COCO results list or path (mmdet ``*.bbox.json`` / ``*.segm.json``).
    """
    return bootstrap_from_eval(evaluate_per_image(gt, dets, iou_type), n, seed, confidence)
