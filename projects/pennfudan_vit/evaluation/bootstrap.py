"""COCO AP with percentile-bootstrap confidence intervals over test images.

``COCOeval.evaluate()`` is run once on the whole split; its per-image matching
records (``evalImgs``) are then re-accumulated for every bootstrap replicate,
a multiset of image ids drawn with replacement (an image drawn twice brings
its ground truths and detections twice). The accumulation replicates
``COCOeval.accumulate()`` + ``summarize()`` (101-point interpolated precision,
per category, categories without ground truth excluded) with numpy arrays that
are built once, so 1000 replicates take a fraction of a second on ~100 images.

Only numpy, pycocotools and the standard library are imported, so the module
loads fast and works without torch / mmdet.
"""
from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import os
from dataclasses import asdict, dataclass, field
from typing import Any, Iterable, Sequence, Union

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

__all__ = [
    'METRICS', 'EvalInputError', 'MetricCI', 'BootstrapResult', 'DiffCI',
    'PairedBootstrapResult', 'PerImageEval', 'load_gt', 'load_results',
    'evaluate_per_image', 'draw_samples', 'bootstrap_from_eval',
    'paired_diff_from_evals', 'bootstrap_coco_metrics', 'paired_bootstrap_diff'
]

#: Metrics reported, in ``COCOeval.stats`` order (stats[0], [1], [2]).
METRICS = ('AP', 'AP50', 'AP75')
IOU_TYPES = ('bbox', 'segm')
_MAX_DETS = 100  # summarize() reports AP / AP50 / AP75 at maxDets=100

GtLike = Union[COCO, str, os.PathLike, dict]
DetsLike = Union[str, os.PathLike, Sequence[dict]]
_PYCOCO_ERRORS = (KeyError, TypeError, ValueError, IndexError, AssertionError)


class EvalInputError(ValueError):
    """Malformed or inconsistent ground truth / detection input.

    The message always names the offending file (or ``<ground truth>`` /
    ``<detections>`` for in-memory inputs) so a CLI can print it as is.
    """


# --------------------------------------------------------------------------- #
# Result containers
# --------------------------------------------------------------------------- #
def _json_float(x: float) -> float | None:
    """NaN / inf are not valid JSON; report them as ``null``."""
    return float(x) if math.isfinite(x) else None


@dataclass
class MetricCI:
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

    def to_dict(self) -> dict:
        d = asdict(self)
        for k in ('point', 'mean', 'std', 'lower', 'upper'):
            d[k] = _json_float(d[k])
        return d


@dataclass
class BootstrapResult:
    """Bootstrap confidence intervals of AP / AP50 / AP75 for one iou type."""
    iou_type: str
    n: int
    seed: int
    confidence: float
    num_images: int
    metrics: dict[str, MetricCI]
    coco_stats: list[float] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            'iou_type': self.iou_type,
            'n': self.n,
            'seed': self.seed,
            'confidence': self.confidence,
            'num_images': self.num_images,
            'metrics': {k: v.to_dict() for k, v in self.metrics.items()},
            'coco_stats': [float(s) for s in self.coco_stats],
        }


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
        d = asdict(self)
        for k, v in d.items():
            if isinstance(v, float):
                d[k] = _json_float(v)
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
        return {
            'iou_type': self.iou_type,
            'n': self.n,
            'seed': self.seed,
            'confidence': self.confidence,
            'num_images': self.num_images,
            'metrics': {k: v.to_dict() for k, v in self.metrics.items()},
        }


# --------------------------------------------------------------------------- #
# Input loading and validation
# --------------------------------------------------------------------------- #
@contextlib.contextmanager
def _quiet():
    """Silence pycocotools' progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def _read_json(path: str | os.PathLike, what: str) -> Any:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EvalInputError(f'{path}: {what} file not found')
    if os.path.isdir(path):
        raise EvalInputError(f'{path}: expected a {what} JSON file, '
                             'got a directory')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise EvalInputError(f'{path}: {what} file is not valid JSON ({e})') \
            from None
    except (OSError, UnicodeDecodeError) as e:
        raise EvalInputError(f'{path}: cannot read {what} file ({e})') \
            from None


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float, np.integer, np.floating)) and \
        not isinstance(x, bool) and math.isfinite(float(x))


def _validate_gt_dataset(ds: Any, name: str) -> None:
    """Check what COCOeval silently relies on, so errors are explicit."""
    if not isinstance(ds, dict):
        raise EvalInputError(
            f'{name}: not a COCO ground-truth file (expected a JSON object '
            f'with images/annotations/categories, got {type(ds).__name__})')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(ds.get(key), list):
            raise EvalInputError(
                f'{name}: not a COCO ground-truth file (missing list '
                f'"{key}")')
    img_ids = [img.get('id') if isinstance(img, dict) else None
               for img in ds['images']]
    if any(i is None for i in img_ids):
        raise EvalInputError(f'{name}: every image needs an "id"')
    if len(set(img_ids)) != len(img_ids):
        raise EvalInputError(f'{name}: duplicate image ids')
    if any(not isinstance(c, dict) or 'id' not in c
           for c in ds['categories']):
        raise EvalInputError(f'{name}: every category needs an "id"')
    img_set = set(img_ids)
    sized = {img['id'] for img in ds['images']
             if 'height' in img and 'width' in img}
    ann_ids = set()
    required = ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd')
    for ann in ds['annotations']:
        if not isinstance(ann, dict):
            raise EvalInputError(f'{name}: annotations must be objects')
        missing = [k for k in required if k not in ann]
        if missing:
            raise EvalInputError(
                f'{name}: annotation {ann.get("id", "?")} lacks '
                f'{", ".join(missing)} (required by COCOeval)')
        if ann['id'] == 0:
            # dtMatches stores the matched gt id, 0 meaning "unmatched":
            # a detection matched to annotation 0 would count as a miss.
            raise EvalInputError(
                f'{name}: annotation id 0 found; pycocotools treats a match '
                'to id 0 as no match, renumber annotations from 1')
        if ann['id'] in ann_ids:
            raise EvalInputError(
                f'{name}: duplicate annotation id {ann["id"]}')
        ann_ids.add(ann['id'])
        if ann['image_id'] not in img_set:
            raise EvalInputError(
                f'{name}: annotation {ann["id"]} refers to image id '
                f'{ann["image_id"]} absent from "images"')
        segm = ann.get('segmentation')
        if (isinstance(segm, list) or isinstance(segm, dict) and isinstance(
                segm.get('counts'), list)) and ann['image_id'] not in sized:
            raise EvalInputError(
                f'{name}: annotation {ann["id"]} has polygons / uncompressed '
                f'RLE but image {ann["image_id"]} has no height/width')


def load_gt(gt: GtLike) -> COCO:
    """Return a pycocotools ``COCO`` for a COCO object, dataset dict or path.

    A ``COCO`` object is used as is (COCOeval annotates its annotations in
    place, as it always does); paths and dicts are validated first.
    """
    if isinstance(gt, COCO):
        return gt
    if isinstance(gt, dict):
        name, ds = '<ground truth>', copy.deepcopy(gt)
    elif isinstance(gt, (str, os.PathLike)):
        name, ds = os.fspath(gt), _read_json(gt, 'ground-truth')
    else:
        raise TypeError(f'gt must be a COCO, dict or path, got {type(gt)}')
    _validate_gt_dataset(ds, name)
    coco = COCO()
    coco.dataset = ds
    coco.source = name  # for error messages
    with _quiet():
        coco.createIndex()
    return coco


def _gt_name(gt: COCO) -> str:
    return getattr(gt, 'source', '<ground truth>')


def _to_compressed_rle(segm: Any, h: int, w: int) -> dict:
    """Polygons / uncompressed RLE -> compressed RLE (loadRes needs it)."""
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    return mask_utils.frPyObjects(segm, h, w)


def _check_segmentation(segm: Any) -> bool:
    if isinstance(segm, dict):
        size = segm.get('size')
        return (isinstance(size, (list, tuple)) and len(size) == 2
                and all(_is_number(v) for v in size)
                and isinstance(segm.get('counts'), (str, bytes, list)))
    return isinstance(segm, list) and len(segm) > 0 and all(
        isinstance(p, list) and len(p) >= 6 for p in segm)


def _validate_results(anns: Any, gt: COCO, iou_type: str,
                      name: str) -> list[dict]:
    """Validate a COCO results list against ``gt``; return a clean copy."""
    if isinstance(anns, dict):
        hint = (' (this looks like a ground-truth file)'
                if 'annotations' in anns else '')
        raise EvalInputError(
            f'{name}: not a COCO results file: expected a JSON list of '
            f'detections, got an object{hint}')
    if not isinstance(anns, (list, tuple)):
        raise EvalInputError(
            f'{name}: not a COCO results file: expected a JSON list of '
            f'detections, got {type(anns).__name__}')
    need = ('image_id', 'category_id', 'score') + (
        ('bbox', ) if iou_type == 'bbox' else ('segmentation', ))
    img_ids, cat_ids = set(gt.getImgIds()), set(gt.getCatIds())
    bad_imgs, bad_cats = set(), set()
    out = []
    for i, ann in enumerate(anns):
        if not isinstance(ann, dict):
            raise EvalInputError(
                f'{name}: not a COCO results file: entry {i} is a '
                f'{type(ann).__name__}, not an object')
        missing = [k for k in need if k not in ann]
        if missing:
            extra = (' (a bbox results file cannot be used for segm '
                     'evaluation)' if missing == ['segmentation'] else '')
            raise EvalInputError(
                f'{name}: not COCO {iou_type} results: entry {i} lacks '
                f'{", ".join(missing)}{extra}')
        if not _is_number(ann['score']):
            raise EvalInputError(
                f'{name}: entry {i} has a non-numeric score '
                f'{ann["score"]!r}')
        has_box = isinstance(ann.get('bbox'), (list, tuple)) and len(
            ann['bbox']) == 4 and all(_is_number(v) for v in ann['bbox'])
        if iou_type == 'bbox' and not has_box:
            raise EvalInputError(
                f'{name}: entry {i} has an invalid bbox {ann["bbox"]!r} '
                '(expected [x, y, w, h])')
        if iou_type == 'segm' and not _check_segmentation(
                ann['segmentation']):
            raise EvalInputError(
                f'{name}: entry {i} has an invalid segmentation (expected '
                'RLE {"size", "counts"} or polygons)')
        if ann['image_id'] not in img_ids:
            bad_imgs.add(ann['image_id'])
            continue
        if ann['category_id'] not in cat_ids:
            bad_cats.add(ann['category_id'])
            continue
        keep = {k: ann[k] for k in need}
        keep['score'] = float(ann['score'])
        if has_box:
            keep['bbox'] = [float(v) for v in ann['bbox']]
        out.append(keep)
    if bad_imgs:
        ex = sorted(bad_imgs, key=str)[:5]
        raise EvalInputError(
            f'{name}: detections refer to {len(bad_imgs)} image id(s) absent '
            f'from the ground truth, e.g. {ex}; wrong ground-truth file?')
    if bad_cats:
        raise EvalInputError(
            f'{name}: detections use category id(s) '
            f'{sorted(bad_cats, key=str)} absent from the ground truth '
            f'categories {sorted(cat_ids)}')
    if iou_type == 'segm':
        _normalize_segm(out, gt, name)
    return out


def _normalize_segm(anns: list[dict], gt: COCO, name: str) -> None:
    """Make segmentations compressed RLE of the GT image size, in place.

    ``loadRes`` picks its branch from the first entry only, so ``bbox`` is
    kept only when every entry has one (mmdet writes it: matches mmdet's own
    area ranges); otherwise it is derived from the mask for all.
    """
    all_boxes = all('bbox' in a for a in anns)
    for i, ann in enumerate(anns):
        segm = ann['segmentation']
        img = gt.imgs[ann['image_id']]
        hw = (img.get('height'), img.get('width'))
        if isinstance(segm, dict) and not isinstance(segm['counts'], list):
            if None not in hw and [int(s) for s in segm['size']] != [
                    int(hw[0]), int(hw[1])]:
                raise EvalInputError(
                    f'{name}: entry {i} mask size {list(segm["size"])} != '
                    f'image {ann["image_id"]} size [height, width] = '
                    f'{list(hw)}')
        else:
            if None in hw:
                raise EvalInputError(
                    f'{name}: entry {i} uses polygons / uncompressed RLE but '
                    f'ground-truth image {ann["image_id"]} has no '
                    'height/width')
            segm = _to_compressed_rle(segm, int(hw[0]), int(hw[1]))
        segm = dict(segm)  # never share (or alter) the caller's dict
        if isinstance(segm['counts'], bytes):
            segm['counts'] = segm['counts'].decode('ascii')
        ann['segmentation'] = segm
        if not all_boxes:
            ann.pop('bbox', None)


def load_results(dets: DetsLike, gt: COCO, iou_type: str) -> COCO:
    """Load and validate COCO results (list or path) as a ``COCO`` object.

    Input lists are not modified. Empty results are valid (AP = 0).
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f'iou_type must be one of {IOU_TYPES}, '
                         f'got {iou_type!r}')
    if isinstance(dets, (str, os.PathLike)):
        name, anns = os.fspath(dets), _read_json(dets, 'detection results')
    else:
        name, anns = '<detections>', dets
    anns = _validate_results(anns, gt, iou_type, name)
    if not anns:  # loadRes indexes anns[0]
        res = COCO()
        res.dataset = {
            'images': list(gt.dataset['images']),
            'categories': copy.deepcopy(gt.dataset['categories']),
            'annotations': [],
        }
        with _quiet():
            res.createIndex()
        return res
    try:
        with _quiet():
            return gt.loadRes(anns)
    except _PYCOCO_ERRORS as e:
        raise EvalInputError(
            f'{name}: pycocotools cannot load these results '
            f'({type(e).__name__}: {e})') from None


# --------------------------------------------------------------------------- #
# Per-image records and the vectorized accumulate
# --------------------------------------------------------------------------- #
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
            start = np.cumsum(count) - count
            self._cats.append(
                _CatRecords(
                    scores=np.concatenate(scores) if scores else np.zeros(0),
                    tps=np.concatenate(tps, axis=1) if tps else np.zeros(
                        (num_t, 0), bool),
                    fps=np.concatenate(fps, axis=1) if fps else np.zeros(
                        (num_t, 0), bool),
                    start=start,
                    count=count,
                    npig=npig))

    @property
    def num_images(self) -> int:
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


def evaluate_per_image(gt: GtLike, dets: DetsLike,
                       iou_type: str = 'bbox') -> PerImageEval:
    """Run ``COCOeval.evaluate()`` once and keep its per-image records.

    ``accumulate()`` + ``summarize()`` also run once (cheap) so the official
    12 ``stats`` are kept in ``coco_stats``.
    """
    if iou_type not in IOU_TYPES:
        raise ValueError(f'iou_type must be one of {IOU_TYPES}, '
                         f'got {iou_type!r}')
    gt_coco = load_gt(gt)
    if iou_type == 'segm':
        no_mask = [a['id'] for a in gt_coco.dataset['annotations']
                   if 'segmentation' not in a]
        if no_mask:
            raise EvalInputError(
                f'{_gt_name(gt_coco)}: {len(no_mask)} annotation(s) without '
                f'segmentation (e.g. id {no_mask[0]}): no segm evaluation')
    dt_coco = load_results(dets, gt_coco, iou_type)
    coco_eval = COCOeval(gt_coco, dt_coco, iou_type)
    try:
        with _quiet():
            coco_eval.evaluate()
            coco_eval.accumulate()
            coco_eval.summarize()
    except _PYCOCO_ERRORS as e:
        name = os.fspath(dets) if isinstance(dets, (str, os.PathLike)) \
            else '<detections>'
        raise EvalInputError(
            f'{name} / {_gt_name(gt_coco)}: COCOeval failed on this input '
            f'({type(e).__name__}: {e})') from None
    return PerImageEval(coco_eval, iou_type, coco_eval.stats)


# --------------------------------------------------------------------------- #
# Bootstrap
# --------------------------------------------------------------------------- #
def draw_samples(num_images: int, n: int = 1000, seed: int = 0) -> np.ndarray:
    """``[n, num_images]`` image positions drawn with replacement."""
    if n < 1:
        raise ValueError(f'n must be >= 1, got {n}')
    if num_images < 1:
        raise ValueError('the ground truth has no images')
    rng = np.random.default_rng(seed)
    return rng.integers(0, num_images, size=(n, num_images))


def _percentiles(confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f'confidence must be in (0, 1), got {confidence}')
    alpha = (1 - confidence) / 2 * 100
    return alpha, 100 - alpha


def _summary(values: np.ndarray, pct: tuple[float, float]) -> tuple:
    if values.size == 0:
        return math.nan, math.nan, math.nan, math.nan
    lo, hi = np.percentile(values, pct)
    return (float(values.mean()), float(values.std(ddof=1))
            if values.size > 1 else 0.0, float(lo), float(hi))


def bootstrap_from_eval(pie: PerImageEval, n: int = 1000, seed: int = 0,
                        confidence: float = 0.95) -> BootstrapResult:
    """Percentile bootstrap of AP / AP50 / AP75 from per-image records."""
    pct = _percentiles(confidence)
    point = pie.metrics()
    reps = pie.metrics_batch(draw_samples(pie.num_images, n, seed))
    metrics = {}
    for j, name in enumerate(METRICS):
        vals = reps[:, j][reps[:, j] > -1]
        mean, std, lo, hi = _summary(vals, pct)
        metrics[name] = MetricCI(
            point=float(point[j]), mean=mean, std=std, lower=lo, upper=hi,
            n_valid=int(vals.size), n_excluded=int(n - vals.size))
    return BootstrapResult(pie.iou_type, n, seed, confidence,
                           pie.num_images, metrics, pie.coco_stats)


def paired_diff_from_evals(pie_a: PerImageEval, pie_b: PerImageEval,
                           n: int = 1000, seed: int = 0,
                           confidence: float = 0.95) -> PairedBootstrapResult:
    """Paired bootstrap of B - A: both sets see the same resampled images."""
    if pie_a.img_ids != pie_b.img_ids or pie_a.cat_ids != pie_b.cat_ids:
        raise ValueError('paired bootstrap needs both prediction sets '
                         'evaluated on the same ground truth')
    if pie_a.iou_type != pie_b.iou_type:
        raise ValueError('paired bootstrap needs the same iou_type')
    pct = _percentiles(confidence)
    pa, pb = pie_a.metrics(), pie_b.metrics()
    samples = draw_samples(pie_a.num_images, n, seed)
    ra, rb = pie_a.metrics_batch(samples), pie_b.metrics_batch(samples)
    metrics = {}
    for j, name in enumerate(METRICS):
        ok = (ra[:, j] > -1) & (rb[:, j] > -1)
        diff = rb[ok, j] - ra[ok, j]
        mean, std, lo, hi = _summary(diff, pct)
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


def bootstrap_coco_metrics(gt: GtLike, dets: DetsLike, iou_type: str = 'bbox',
                           n: int = 1000, seed: int = 0,
                           confidence: float = 0.95) -> BootstrapResult:
    """COCO AP / AP50 / AP75 with percentile-bootstrap intervals.

    Args:
        gt: ``COCO`` object, COCO dataset dict or path to the GT JSON.
        dets: COCO results list or path (mmdet ``*.bbox.json`` /
            ``*.segm.json``).
        iou_type: 'bbox' or 'segm'.
        n: number of bootstrap replicates (image multisets).
        seed: seed of ``numpy.random.default_rng``.
        confidence: coverage of the percentile interval.
    """
    pie = evaluate_per_image(gt, dets, iou_type)
    return bootstrap_from_eval(pie, n, seed, confidence)


def paired_bootstrap_diff(gt: GtLike, dets_a: DetsLike, dets_b: DetsLike,
                          iou_type: str = 'bbox', n: int = 1000,
                          seed: int = 0,
                          confidence: float = 0.95) -> PairedBootstrapResult:
    """Paired bootstrap of metric(B) - metric(A) on the same ground truth."""
    gt_coco = load_gt(gt)
    pie_a = evaluate_per_image(gt_coco, dets_a, iou_type)
    pie_b = evaluate_per_image(gt_coco, dets_b, iou_type)
    return paired_diff_from_evals(pie_a, pie_b, n, seed, confidence)
