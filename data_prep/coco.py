"""Object masks to exact COCO annotations, and canonical COCO JSON bytes."""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from pennfudan_vit.errors import UserError

MASK_FORMATS = ('rle', 'polygon')
CATEGORY = {'id': 1, 'name': 'pedestrian', 'supercategory': 'person'}


@dataclass
class Instance:
    """One object: ``bbox`` is ``[x, y, w, h]`` with ``w = xmax - xmin + 1``."""

    mask_id: int
    bbox: list[int]
    area: int
    segmentation: dict | list
    added: bool = False
    ann_id: int = 0
    category_id: int = CATEGORY['id']


@dataclass
class ImageRecord:
    """One image, its 1-based id in file-name order, and its objects."""

    image_id: int
    file_name: str
    width: int
    height: int
    instances: list[Instance]


def _polygons(binary: np.ndarray) -> list[list[float]]:
    """Outer contours of a binary mask as COCO polygons (holes are lost)."""
    try:
        import cv2
    except ImportError:
        raise UserError('--mask-format polygon needs OpenCV: pip install opencv-python '
                        '(or use the default, exact --mask-format rle)') from None
    polygons = []
    for contour in cv2.findContours(binary, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)[0]:
        points = contour.reshape(-1, 2)
        if len(points) < 3:  # a one-pixel-wide blob: outline its box to keep a polygon
            (x1, y1), (x2, y2) = points.min(0), points.max(0) + 1
            points = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
        else:
            points = points + 0.5  # contours run through pixel centres
        polygons.append([float(v) for v in points.reshape(-1)])
    return polygons


def encode_mask(binary: np.ndarray, mask_id: int, mask_format: str = 'rle') -> Instance:
    """One object's non-empty ``(H, W)`` binary mask as an instance, box and area."""
    binary = np.asfortranarray(binary, dtype=np.uint8)  # the layout pycocotools encodes
    rows = np.flatnonzero(binary.any(axis=1))
    cols = np.flatnonzero(binary.any(axis=0))
    x, y = int(cols[0]), int(rows[0])
    if mask_format == 'rle':  # exact: decodes to the very pixels of the mask
        rle = mask_utils.encode(binary)
        segmentation = {'size': [int(v) for v in rle['size']],
                        'counts': rle['counts'].decode('ascii')}
    else:
        segmentation = _polygons(np.ascontiguousarray(binary))
    bbox = [x, y, int(cols[-1]) - x + 1, int(rows[-1]) - y + 1]
    return Instance(mask_id, bbox, int(binary.sum(dtype=np.int64)), segmentation)


def encode_instances(mask: np.ndarray, mask_format: str = 'rle') -> list[Instance]:
    """Split an ``(H, W)`` instance-id mask (0 = background) into instances, by id."""
    ids = np.unique(mask)
    return [encode_mask(mask == mask_id, mask_id, mask_format)
            for mask_id in ids[ids != 0].tolist()]


def build_coco(records: Sequence[ImageRecord], info: dict, crowd_added: bool = False,
               categories: Sequence[dict] = (CATEGORY, ), image_dir: str = 'PNGImages') -> dict:
    """COCO dict of ``records`` (file names below ``image_dir``); ``crowd_added`` marks
    added objects ``iscrowd=1``."""
    images, annotations = [], []
    for record in sorted(records, key=lambda r: r.image_id):
        images.append({'id': record.image_id, 'file_name': f'{image_dir}/{record.file_name}',
                       'width': record.width, 'height': record.height})
        annotations += [{
            'id': inst.ann_id, 'image_id': record.image_id, 'category_id': inst.category_id,
            'segmentation': inst.segmentation, 'area': inst.area, 'bbox': list(inst.bbox),
            'iscrowd': int(crowd_added and inst.added), 'added': inst.added,
            'mask_id': inst.mask_id,
        } for inst in record.instances]
    return {'info': info, 'licenses': [], 'categories': [dict(c) for c in categories],
            'images': images, 'annotations': annotations}


def dump_json(obj: dict) -> bytes:
    """Canonical bytes (sorted keys, compact, no timestamps): same input, same file."""
    return (json.dumps(obj, sort_keys=True, separators=(',', ':'), ensure_ascii=True,
                       allow_nan=False) + '\n').encode()
