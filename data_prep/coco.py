"""Assemble and serialise COCO instance-segmentation dictionaries.

Serialisation is canonical (sorted keys, fixed separators, no timestamps),
so identical inputs give byte-identical files.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

from .pennfudan import ImageRecord

CATEGORY = {'id': 1, 'name': 'pedestrian', 'supercategory': 'person'}
IMAGE_PREFIX = 'PNGImages/'


def build_coco(records: Sequence[ImageRecord],
               info: dict,
               crowd_added: bool = False) -> dict:
    """Build the COCO dict of ``records``.

    Image and annotation ids come from the records (global, 1-based), so
    an image or instance has the same id in every file that holds it.

    Args:
        records: images of this file, with their global ``image_id``.
        info: the ``info`` block.
        crowd_added: mark added pedestrians ``iscrowd=1`` so that COCOeval
            (and MMDetection, via ``ignore_flag``) ignores them.
    """
    images, annotations = [], []
    for record in sorted(records, key=lambda r: r.image_id):
        images.append({
            'id': record.image_id,
            'file_name': IMAGE_PREFIX + record.file_name,
            'width': record.width,
            'height': record.height,
        })
        for inst in record.instances:
            annotations.append({
                'id': inst.ann_id,
                'image_id': record.image_id,
                'category_id': CATEGORY['id'],
                'segmentation': inst.segmentation,
                'area': inst.area,
                'bbox': list(inst.bbox),
                'iscrowd': int(crowd_added and inst.added),
                'added': inst.added,
                'mask_id': inst.mask_id,
            })
    return {
        'info': info,
        'licenses': [],
        'categories': [dict(CATEGORY)],
        'images': images,
        'annotations': annotations,
    }


def dump_json(obj: dict) -> bytes:
    """Serialise ``obj`` canonically (sorted keys, compact, trailing LF)."""
    return (json.dumps(
        obj,
        sort_keys=True,
        separators=(',', ':'),
        ensure_ascii=True,
        allow_nan=False) + '\n').encode()
