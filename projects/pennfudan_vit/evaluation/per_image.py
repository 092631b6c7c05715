"""One COCOeval pass whose per-image records re-accumulate on any image multiset.

``COCOeval.evaluate()`` matches detections to ground truth image by image;
``accumulate()`` + ``summarize()`` then pool the matches of a set of images.
:class:`PerImageEval` keeps the matches as flat numpy arrays built once and
replicates that pooling (101-point interpolated precision, per category,
categories without ground truth excluded) for any list of image positions, so
bootstrap replicates or per-batch scores cost no further COCOeval run.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Optional

import numpy as np
from pycocotools.cocoeval import COCOeval

from .detections import DetsLike, load_results, source_name
from .ground_truth import GtLike, check_has_masks, gt_name, load_gt
from ..errors import UserError
from .inputs import PYCOCO_ERRORS, check_iou_type, quiet

_MAX_DETS = 100  # summarize() reports AP / AP50 / AP75 at maxDets=100


@dataclass
class _CatRecords:
    """Per-image detections of one category, concatenated in image order."""
    scores: np.ndarray  # (D,) float
    tps: np.ndarray  # (T, D) bool: matched and not ignored
    fps: np.ndarray  # (T, D) bool: unmatched and not ignored
    start: np.ndarray  # (I,) offset of each image's detections
    count: np.ndarray  # (I,) number of detections per image
    npig: np.ndarray  # (I,) number of non-ignored ground truths per image


def _gather_index(start: np.ndarray, count: np.ndarray,
                  sample: np.ndarray) -> np.ndarray:
    """Flat indices of all detections of ``sample`` images, in sample order."""
    cnt = count[sample]
    total = int(cnt.sum())
    if total == 0:
        return np.empty(0, dtype=np.intp)
    excl = np.cumsum(cnt) - cnt
    return np.repeat(start[sample] - excl, cnt) + np.arange(total)


class PerImageEval:
    """COCOeval matching of one split, re-accumulable on any image multiset.

    Built from a ``COCOeval`` on which ``evaluate()`` ran (default params).
    :meth:`metrics` returns ``[AP, AP50, AP75]`` (area 'all', maxDets 100)
    for a sample of image positions, exactly as ``accumulate()`` +
    ``summarize()`` would on a dataset where each sampled image appears as
    often as drawn (new image ids in sample order); -1 when undefined.
    """

    def __init__(self, coco_eval: COCOeval, iou_type: str,
                 coco_stats: Iterable[float] = ()) -> None:
        p = coco_eval.params
        if not coco_eval.evalImgs:
            raise ValueError('run COCOeval.evaluate() first')
        if _MAX_DETS not in p.maxDets or 'all' not in p.areaRngLbl:
            raise ValueError('COCOeval must use default maxDets / areaRng')
        self.iou_type = iou_type
        self.img_ids = list(p.imgIds)
        self.cat_ids = list(p.catIds) if p.useCats else [-1]
        self.iou_thrs = np.asarray(p.iouThrs, dtype=float)
        self.rec_thrs = np.asarray(p.recThrs, dtype=float)
        self.coco_stats = [float(s) for s in coco_stats]
        self.num_detections = len(coco_eval.cocoDt.getAnnIds())
        t50 = np.flatnonzero(np.isclose(self.iou_thrs, 0.5))
        t75 = np.flatnonzero(np.isclose(self.iou_thrs, 0.75))
        if len(t50) != 1 or len(t75) != 1:
            raise ValueError('iouThrs must contain 0.5 and 0.75')
        self._t50, self._t75 = int(t50[0]), int(t75[0])

        num_t, num_i = len(self.iou_thrs), len(self.img_ids)
        a0 = p.areaRngLbl.index('all')
        num_a = len(p.areaRng)
        self._cats: list[_CatRecords] = []
        for k in range(len(self.cat_ids)):
            base = k * num_a * num_i + a0 * num_i
            scores, tps, fps = [], [], []
            count = np.zeros(num_i, dtype=np.intp)
            npig = np.zeros(num_i, dtype=np.int64)
            for i in range(num_i):
                e = coco_eval.evalImgs[base + i]
                if e is None:  # neither gt nor dt: contributes nothing
                    continue
                s = np.asarray(e['dtScores'][:_MAX_DETS], dtype=float)
                dtm = np.asarray(e['dtMatches'])[:, :_MAX_DETS]
                dtig = np.asarray(e['dtIgnore'])[:, :_MAX_DETS].astype(bool)
                scores.append(s)
                tps.append(np.logical_and(dtm != 0, ~dtig))
                fps.append(np.logical_and(dtm == 0, ~dtig))
                count[i] = len(s)
                npig[i] = np.count_nonzero(np.asarray(e['gtIgnore']) == 0)
            none = np.zeros((num_t, 0), bool)
            self._cats.append(_CatRecords(
                scores=np.concatenate(scores) if scores else np.zeros(0),
                tps=np.concatenate(tps, axis=1) if tps else none,
                fps=np.concatenate(fps, axis=1) if fps else none,
                start=np.cumsum(count) - count, count=count, npig=npig))

    @property
    def num_images(self) -> int:
        """Number of images of the split (positions run 0..num_images-1)."""
        return len(self.img_ids)

    def precision(self, sample: np.ndarray | None = None) -> np.ndarray:
        """Interpolated precision ``[T, R, K]`` (area all, maxDets 100).

        Mirrors ``COCOeval.accumulate()``; -1 for categories whose sample has
        no non-ignored ground truth.
        """
        if sample is None:
            sample = np.arange(self.num_images)
        sample = np.asarray(sample, dtype=np.intp)
        num_t, num_r = len(self.iou_thrs), len(self.rec_thrs)
        prec = -np.ones((num_t, num_r, len(self._cats)))
        for k, rec in enumerate(self._cats):
            npig = int(rec.npig[sample].sum())
            if npig == 0:
                continue
            idx = _gather_index(rec.start, rec.count, sample)
            q = np.zeros((num_t, num_r))
            nd = len(idx)
            if nd:
                # mergesort (stable) on -score, like pycocotools / Matlab
                order = idx[np.argsort(-rec.scores[idx], kind='mergesort')]
                tp = np.cumsum(rec.tps[:, order], axis=1).astype(float)
                fp = np.cumsum(rec.fps[:, order], axis=1).astype(float)
                rc = tp / npig
                pr = tp / (fp + tp + np.spacing(1))
                # precision envelope: pr[i] = max(pr[i:])
                pr = np.maximum.accumulate(pr[:, ::-1], axis=1)[:, ::-1]
                for t in range(num_t):
                    inds = np.searchsorted(rc[t], self.rec_thrs, side='left')
                    valid = inds < nd  # pycocotools stops at the first miss
                    q[t, valid] = pr[t, inds[valid]]
            prec[:, :, k] = q
        return prec

    def metrics(self, sample: np.ndarray | None = None) -> np.ndarray:
        """``[AP, AP50, AP75]`` of an image sample, -1 where undefined."""
        prec = self.precision(sample)
        out = np.empty(3)
        for j, s in enumerate((prec, prec[self._t50], prec[self._t75])):
            valid = s[s > -1]
            out[j] = np.mean(valid) if valid.size else -1.0
        return out

    def metrics_batch(self, samples: np.ndarray) -> np.ndarray:
        """``[n, 3]`` metrics for ``n`` samples (rows of image positions)."""
        samples = np.asarray(samples, dtype=np.intp)
        out = np.empty((len(samples), 3))
        for r, sample in enumerate(samples):
            out[r] = self.metrics(sample)
        return out


def evaluate_per_image(gt: GtLike, dets: DetsLike, iou_type: str = 'bbox',
                       score_thr: Optional[float] = None) -> PerImageEval:
    """Run ``COCOeval.evaluate()`` once and keep its per-image records.

    ``accumulate()`` + ``summarize()`` also run once (cheap) so the official
    12 ``stats`` are kept in ``coco_stats``. ``score_thr`` drops detections
    scoring below it first.
    """
    check_iou_type(iou_type)
    gt_coco = load_gt(gt)
    if iou_type == 'segm':
        check_has_masks(gt_coco)
    dt_coco = load_results(dets, gt_coco, iou_type, score_thr)
    coco_eval = COCOeval(gt_coco, dt_coco, iou_type)
    try:
        with quiet():
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
    except PYCOCO_ERRORS as e:
        raise UserError(f'{source_name(dets)} / {gt_name(gt_coco)}: COCOeval failed on this '
                        f'input ({type(e).__name__}: {e})') from None
    return PerImageEval(coco_eval, iou_type, coco_eval.stats)
