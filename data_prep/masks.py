"""Instance masks -> COCO ``segmentation``, ``bbox`` and ``area``.

RLE (the default) is exact: it decodes to the very pixels of the source mask.
Polygons are traced with OpenCV and are an approximation: holes are dropped
and the outline follows pixel centres, so rasterising them gives back a mask
that differs from the source along the boundary.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pycocotools import mask as mask_utils

from .errors import ConversionError

MASK_FORMATS = ('rle', 'polygon')


@dataclass
class InstanceMask:
    """One instance of an instance-id mask, in COCO terms.

    Attributes:
        mask_id: the instance's pixel value in the source mask.
        bbox: tight box ``[x, y, w, h]`` with ``w = xmax - xmin + 1``.
        area: number of pixels of the instance.
        segmentation: compressed RLE dict or a list of polygons.
    """

    mask_id: int
    bbox: list[int]
    area: int
    segmentation: dict | list


def _polygons(binary: np.ndarray) -> list[list[float]]:
    """Trace the outer contours of a binary mask as COCO polygons."""
    try:
        import cv2
    except ImportError:
        raise ConversionError(
            '--mask-format polygon needs OpenCV: pip install '
            'opencv-python (or use the default, exact --mask-format rle)'
        ) from None
    contours, _ = cv2.findContours(binary, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_SIMPLE)
    polygons = []
    for contour in contours:
        points = contour.reshape(-1, 2)
        if len(points) < 3:
            # A one-pixel-wide blob: outline its box so it stays a polygon.
            (x1, y1), (x2, y2) = points.min(0), points.max(0) + 1
            points = np.array([[x1, y1], [x2, y1], [x2, y2], [x1, y2]])
        else:
            # Contours run through pixel centres: x + 0.5 in COCO coords.
            points = points + 0.5
        polygons.append([float(v) for v in points.reshape(-1)])
    return polygons


def encode_instances(mask: np.ndarray,
                     mask_format: str = 'rle') -> list[InstanceMask]:
    """Split an instance-id mask (0 = background) into COCO instances.

    Args:
        mask: ``(H, W)`` integer array, one id per instance.
        mask_format: ``'rle'`` (exact compressed RLE) or ``'polygon'``.

    Returns:
        One :class:`InstanceMask` per non-zero id, in increasing id order.
    """
    if mask_format not in MASK_FORMATS:
        raise ValueError(f'mask_format must be one of {MASK_FORMATS}')
    ids = np.unique(mask)
    ids = ids[ids != 0]
    if ids.size == 0:
        return []
    # (H, W, N) Fortran-ordered uint8, the layout pycocotools encodes.
    stack = np.asfortranarray(
        (mask[:, :, None] == ids[None, None, :]).astype(np.uint8))
    rles = mask_utils.encode(stack) if mask_format == 'rle' else None
    instances = []
    for k, mask_id in enumerate(ids.tolist()):
        binary = stack[:, :, k]
        rows = np.flatnonzero(binary.any(axis=1))
        cols = np.flatnonzero(binary.any(axis=0))
        x, y = int(cols[0]), int(rows[0])
        bbox = [x, y, int(cols[-1]) - x + 1, int(rows[-1]) - y + 1]
        if rles is not None:
            rle = rles[k]
            segmentation = {
                'size': [int(v) for v in rle['size']],
                'counts': rle['counts'].decode('ascii')
            }
        else:
            segmentation = _polygons(np.ascontiguousarray(binary))
        instances.append(
            InstanceMask(
                mask_id=int(mask_id),
                bbox=bbox,
                area=int(binary.sum(dtype=np.int64)),
                segmentation=segmentation))
    return instances
