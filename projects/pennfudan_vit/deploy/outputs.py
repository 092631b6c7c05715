"""Predictions in the formats the tools write: the score filter, per-image JSON, COCO
results, painted images (numpy, Pillow and pycocotools only)."""
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_util

Prediction = Dict[str, np.ndarray]
# an RGB uint8 (H, W, 3) image -> boxes, scores, labels, masks; with .class_names, .palette
Predictor = Callable[[np.ndarray], Prediction]


def keep_above(pred: Prediction, score_thr: float) -> Prediction:
    """The instances scoring at least ``score_thr``."""
    keep = pred['scores'] >= score_thr
    return {k: v[keep] for k, v in pred.items()}


def encode_masks(masks: np.ndarray) -> List[dict]:
    """COCO RLE (``counts`` as text) of each (H, W) mask, as mmdet's ``encode_mask_results``."""
    out = []
    for m in masks:
        rle = mask_util.encode(np.asfortranarray(m[:, :, None].astype(np.uint8)))[0]
        rle['counts'] = rle['counts'].decode()
        out.append(rle)
    return out


def prediction_dict(pred: Prediction) -> dict:
    """The per-image JSON of the inference tools (mmdet ``DetInferencer``'s keys)."""
    return dict(labels=pred['labels'].tolist(), scores=pred['scores'].tolist(),
                bboxes=pred['boxes'].tolist(), masks=encode_masks(pred['masks']))


def coco_results(image_id: int, pred: Prediction,
                 cat_ids: Sequence[int]) -> Tuple[List[dict], List[dict]]:
    """(bbox, segm) COCO result entries of one image, as mmdet's ``CocoMetric`` writes them."""
    bbox, segm = [], []
    for box, score, label, rle in zip(pred['boxes'], pred['scores'], pred['labels'],
                                      encode_masks(pred['masks'])):
        x1, y1, x2, y2 = (float(v) for v in box)
        entry = dict(image_id=int(image_id), bbox=[x1, y1, x2 - x1, y2 - y1],
                     score=float(score), category_id=int(cat_ids[int(label)]))
        bbox.append(entry)
        segm.append(dict(entry, segmentation=rle))
    return bbox, segm


def paint(image: np.ndarray, pred: Prediction, class_names: Sequence[str],
          palette: Sequence[Tuple[int, int, int]]) -> Image.Image:
    """The RGB image with the masks, boxes and ``class: score`` of every instance of
    ``pred`` (``class`` alone where it has no scores, as ground truth)."""
    out = image.astype(np.float32)
    colours = [tuple(palette[int(label) % len(palette)]) for label in pred['labels']]
    for m, colour in zip(pred['masks'], colours):
        rows, cols = np.flatnonzero(m.any(1)), np.flatnonzero(m.any(0))
        if rows.size:  # blend inside the mask's bounding window: a video paints every frame
            win = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
            sub, inside = out[win], m[win]
            sub[inside] = 0.5 * sub[inside] + 0.5 * np.asarray(colour, np.float32)
    canvas = Image.fromarray(out.round().astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for i, (x1, y1, x2, y2) in enumerate(np.asarray(pred['boxes'], float).tolist()):
        draw.rectangle([x1, y1, x2, y2], outline=colours[i], width=2)
        label = class_names[int(pred['labels'][i])]
        if 'scores' in pred:
            label += f': {pred["scores"][i]:.2f}'
        left, top, right, bottom = draw.textbbox((x1, max(y1 - 12, 0)), label)
        draw.rectangle([left - 1, top - 1, right + 1, bottom + 1], fill=(0, 0, 0))
        draw.text((x1, max(y1 - 12, 0)), label, fill=(255, 255, 255))
    return canvas
