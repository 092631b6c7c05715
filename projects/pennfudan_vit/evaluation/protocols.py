"""Evaluation protocols, to reproduce how AP figures reported elsewhere were computed.

``coco`` is one COCOeval over the whole split (mmdet's CocoMetric, the
torchvision detection reference). ``batch-mean:N`` is what a training
notebook gets from COCOeval (or torchmetrics' MeanAveragePrecision) run on
each test batch alone and averaged. ``score-thr:T`` drops detections scoring
below T before evaluating. See docs/evaluation.md for what each one does to AP.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import numpy as np

from ..errors import UserError
from .bootstrap import METRICS, to_json
from .per_image import PerImageEval

PROTOCOL_HELP = (
    "'coco' (default): one COCOeval over the whole split; 'batch-mean:N': "
    'COCOeval on each batch of N consecutive images (image-id order, last '
    'batch smaller) alone, then the mean of the per-batch AP; a batch without '
    'predictions scores 0 and counts, a batch without ground truth has no AP '
    "and is left out; 'score-thr:T': drop detections scoring below T first; "
    "combine with a comma, e.g. 'batch-mean:4,score-thr:0.5'")


@dataclass(frozen=True)
class Protocol:
    """How AP is computed: per-batch mean or whole split, optional score threshold."""
    batch_size: Optional[int] = None
    score_thr: Optional[float] = None

    @property
    def whole_split(self) -> bool:
        """One COCOeval over the split (bootstrap intervals apply)."""
        return self.batch_size is None

    def __str__(self) -> str:
        parts = []
        if self.batch_size is not None:
            parts.append(f'batch-mean:{self.batch_size}')
        if self.score_thr is not None:
            parts.append(f'score-thr:{self.score_thr:g}')
        return ','.join(parts) or 'coco'


def parse_protocol(text: str | Protocol) -> Protocol:
    """Parse ``coco``, ``batch-mean:N``, ``score-thr:T`` or a comma-joined combination."""
    if isinstance(text, Protocol):
        return text
    fields: dict = {}
    for part in str(text).split(','):
        name, _, value = part.strip().partition(':')
        key = {'coco': 'coco', 'batch-mean': 'batch_size', 'score-thr': 'score_thr'}.get(name)
        takes_value = key != 'coco'
        if key is None or key in fields or takes_value != bool(value):
            raise UserError(
                f'--protocol {text!r}: {part.strip()!r} is not understood; use coco, '
                'batch-mean:N or score-thr:T, each at most once, joined by commas')
        fields[key] = value
    if 'coco' in fields and 'batch_size' in fields:
        raise UserError(f'--protocol {text!r}: coco (whole split) and batch-mean exclude '
                        'each other')
    fields.pop('coco', None)
    if 'batch_size' in fields:
        value = fields['batch_size']
        if not value.isdigit() or int(value) < 1:
            raise UserError(f'--protocol {text!r}: batch-mean needs a whole number of '
                            f'images >= 1, got {value!r}')
        fields['batch_size'] = int(value)
    if 'score_thr' in fields:
        value = fields['score_thr']
        try:
            thr = float(value)
        except ValueError:
            thr = math.nan
        if not math.isfinite(thr):
            raise UserError(f'--protocol {text!r}: score-thr needs a number, got {value!r}')
        fields['score_thr'] = thr
    return Protocol(**fields)


@dataclass
class BatchMeanResult:
    """Mean over test batches of the AP of each batch evaluated alone."""
    iou_type: str
    protocol: Protocol
    num_images: int
    batch_img_ids: list[list]
    per_batch: np.ndarray  # [B, 3] AP / AP50 / AP75, -1 where the batch has no GT
    whole_split: np.ndarray  # [3] one COCOeval over the split, same score threshold

    def point(self) -> np.ndarray:
        """``[AP, AP50, AP75]`` averaged over the batches where each is defined."""
        out = np.full(len(METRICS), math.nan)
        for j in range(len(METRICS)):
            valid = self.per_batch[:, j][self.per_batch[:, j] > -1]
            if valid.size:
                out[j] = valid.mean()
        return out

    def to_dict(self) -> dict:
        """JSON-ready dict (undefined values as None)."""
        point, metrics = self.point(), {}
        for j, name in enumerate(METRICS):
            valid = self.per_batch[:, j][self.per_batch[:, j] > -1]
            metrics[name] = dict(
                point=to_json(point[j]), min=float(valid.min()) if valid.size else None,
                max=float(valid.max()) if valid.size else None, n_valid=int(valid.size),
                n_excluded=int(len(self.per_batch) - valid.size))
        return dict(
            iou_type=self.iou_type, protocol=str(self.protocol),
            batch_size=self.protocol.batch_size, num_images=self.num_images,
            num_batches=len(self.batch_img_ids), metrics=metrics,
            whole_split={name: _defined(self.whole_split[j]) for j, name in enumerate(METRICS)},
            per_batch=[dict(image_ids=ids, **{name: _defined(row[j])
                                              for j, name in enumerate(METRICS)})
                       for ids, row in zip(self.batch_img_ids, self.per_batch)])


def _defined(x: float) -> Optional[float]:
    return float(x) if x > -1 else None


def _plain(x):
    # COCOeval.evaluate() turns image ids into numpy scalars, which JSON rejects
    return x.item() if isinstance(x, np.generic) else x


def batch_positions(num_images: int, batch_size: int) -> list[np.ndarray]:
    """Positions of consecutive batches of ``batch_size`` images; the last may be smaller."""
    return [np.arange(s, min(s + batch_size, num_images))
            for s in range(0, num_images, batch_size)]


def batch_mean_from_eval(pie: PerImageEval, protocol: Protocol) -> BatchMeanResult:
    """Score each batch of ``protocol.batch_size`` images (image-id order) alone.

    COCOeval matches image by image, so a batch's AP re-accumulated from the
    split's per-image records equals COCOeval run on that batch alone. The
    score threshold, if any, must already be applied to ``pie``.
    """
    if protocol.batch_size is None:
        raise ValueError('batch_mean_from_eval needs a batch-mean protocol')
    batches = batch_positions(pie.num_images, protocol.batch_size)
    per_batch = np.stack([pie.metrics(b) for b in batches])
    return BatchMeanResult(
        iou_type=pie.iou_type, protocol=protocol, num_images=pie.num_images,
        batch_img_ids=[[_plain(pie.img_ids[i]) for i in b] for b in batches],
        per_batch=per_batch, whole_split=pie.metrics())
