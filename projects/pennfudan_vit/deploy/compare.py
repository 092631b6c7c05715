"""Detection-level agreement of two predictions: one image, or two COCO result files
(numpy and pycocotools only)."""
import json
from typing import Dict

import numpy as np
from pycocotools import mask as mask_util


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(len(a), len(b)) IoU of xyxy boxes."""
    lt = np.maximum(a[:, None, :2], b[None, :, :2])
    rb = np.minimum(a[:, None, 2:], b[None, :, 2:])
    inter = np.prod(np.clip(rb - lt, 0, None), axis=-1)
    area_a = np.prod(a[:, 2:] - a[:, :2], axis=-1)
    area_b = np.prod(b[:, 2:] - b[:, :2], axis=-1)
    return inter / np.maximum(area_a[:, None] + area_b[None] - inter, 1e-12)


def match_predictions(test: Dict[str, np.ndarray], ref: Dict[str, np.ndarray],
                      min_score: float = 0.0) -> Dict[str, float]:
    """Greedily pair same-label detections scoring >= ``min_score`` by box IoU (reference
    order, best first); report counts, matched-box IoU, score and mask-IoU differences."""
    t = np.flatnonzero(test['scores'] >= min_score)
    r = np.flatnonzero(ref['scores'] >= min_score)
    stats = dict(n_test=float(len(t)), n_ref=float(len(r)), matched=0.0, min_box_iou=1.0,
                 mean_box_iou=1.0, max_score_diff=0.0, min_mask_iou=1.0)
    if not len(t) or not len(r):
        return stats
    iou = box_iou(ref['boxes'][r], test['boxes'][t])
    iou[ref['labels'][r][:, None] != test['labels'][t][None]] = -1
    used, ious, score_diffs, mask_ious = set(), [], [], []
    for i in range(len(r)):
        order = [j for j in np.argsort(-iou[i]) if j not in used and iou[i, j] > 0.5]
        if not order:
            continue
        j = order[0]
        used.add(j)
        ious.append(iou[i, j])
        score_diffs.append(abs(ref['scores'][r[i]] - test['scores'][t[j]]))
        if 'masks' in ref and 'masks' in test:
            a = np.asfortranarray(ref['masks'][r[i]].astype(np.uint8))
            b = np.asfortranarray(test['masks'][t[j]].astype(np.uint8))
            mask_ious.append(mask_util.iou([mask_util.encode(b)], [mask_util.encode(a)],
                                           [0])[0, 0] if a.any() or b.any() else 1.0)
    stats.update(matched=float(len(ious)), min_box_iou=float(min(ious, default=1.0)),
                 mean_box_iou=float(np.mean(ious)) if ious else 1.0,
                 max_score_diff=float(max(score_diffs, default=0.0)),
                 min_mask_iou=float(min(mask_ious, default=1.0)))
    return stats


def _by_image(results_json: str) -> Dict[int, Dict[str, np.ndarray]]:
    with open(results_json) as f:
        entries = json.load(f)
    out: Dict[int, Dict[str, list]] = {}
    for e in entries:
        d = out.setdefault(e['image_id'], dict(boxes=[], scores=[], labels=[]))
        x, y, w, h = e['bbox']
        d['boxes'].append([x, y, x + w, y + h])
        d['scores'].append(e['score'])
        d['labels'].append(e['category_id'])
    return {k: dict(boxes=np.array(v['boxes'], np.float64).reshape(-1, 4),
                    scores=np.array(v['scores']), labels=np.array(v['labels']))
            for k, v in out.items()}


def compare_box_results(test_json: str, ref_json: str, min_score: float = 0.05) -> Dict:
    """Match two COCO ``*.bbox.json`` files image by image (see :func:`match_predictions`)."""
    test, ref = _by_image(test_json), _by_image(ref_json)
    empty = dict(boxes=np.zeros((0, 4)), scores=np.zeros(0), labels=np.zeros(0, int))
    per_image = [match_predictions(test.get(i, empty), ref.get(i, empty), min_score)
                 for i in sorted(set(test) | set(ref))]
    totals = {k: sum(s[k] for s in per_image) for k in ('n_test', 'n_ref', 'matched')}
    matched_iou = sum(s['mean_box_iou'] * s['matched'] for s in per_image)
    return dict(images=len(per_image), **totals,
                min_box_iou=min((s['min_box_iou'] for s in per_image), default=1.0),
                max_score_diff=max((s['max_score_diff'] for s in per_image), default=0.0),
                mean_box_iou=matched_iou / totals['matched'] if totals['matched'] else 1.0)
