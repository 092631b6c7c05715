"""Runtime outputs in the formats of the PyTorch tools: DetInferencer JSON, COCO results, PNGs.

numpy, Pillow and pycocotools only.
"""
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw
from pycocotools import mask as mask_util


def encode_masks(masks: np.ndarray) -> List[dict]:
    """COCO RLE (``counts`` as text) of each (H, W) mask, as mmdet's ``encode_mask_results``."""
    out = []
    for m in masks:
        rle = mask_util.encode(np.asfortranarray(m[:, :, None].astype(np.uint8)))[0]
        rle['counts'] = rle['counts'].decode()
        out.append(rle)
    return out


def prediction_dict(pred: Dict[str, np.ndarray]) -> dict:
    """The per-image JSON of mmdet's ``DetInferencer`` (labels, scores, bboxes, masks)."""
    return dict(labels=pred['labels'].tolist(), scores=pred['scores'].tolist(),
                bboxes=pred['boxes'].tolist(), masks=encode_masks(pred['masks']))


def coco_results(image_id: int, pred: Dict[str, np.ndarray],
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


def paint(image: np.ndarray, pred: Dict[str, np.ndarray], class_names: Sequence[str],
          palette: Sequence[Tuple[int, int, int]], score_thr: float) -> Image.Image:
    """The RGB image with masks, boxes and ``class: score`` of detections above ``score_thr``."""
    out = image.astype(np.float32)
    keep = np.flatnonzero(pred['scores'] >= score_thr)
    for i in keep:
        colour = np.asarray(palette[int(pred['labels'][i]) % len(palette)], np.float32)
        m = pred['masks'][i]
        out[m] = 0.5 * out[m] + 0.5 * colour
    canvas = Image.fromarray(out.round().astype(np.uint8))
    draw = ImageDraw.Draw(canvas)
    for i in keep:
        colour = tuple(palette[int(pred['labels'][i]) % len(palette)])
        x1, y1, x2, y2 = (float(v) for v in pred['boxes'][i])
        draw.rectangle([x1, y1, x2, y2], outline=colour, width=2)
        label = f'{class_names[int(pred["labels"][i])]}: {pred["scores"][i]:.2f}'
        tx, ty = x1, max(y1 - 12, 0)
        left, top, right, bottom = draw.textbbox((tx, ty), label)
        draw.rectangle([left - 1, top - 1, right + 1, bottom + 1], fill=(0, 0, 0))
        draw.text((tx, ty), label, fill=(255, 255, 255))
    return canvas
