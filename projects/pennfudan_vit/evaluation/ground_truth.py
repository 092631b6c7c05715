"""COCO ground truth, checked for what COCOeval silently relies on."""
from __future__ import annotations

import copy
import os
from typing import Any, Union

from pycocotools.coco import COCO

from ..errors import UserError
from ..fileio import read_json
from .inputs import quiet

GtLike = Union[COCO, str, os.PathLike, dict]


def _validate_gt_dataset(ds: Any, name: str) -> None:
    """Check what COCOeval silently relies on, so errors are explicit."""
    if not isinstance(ds, dict):
        raise UserError(f'{name}: not a COCO ground-truth file (expected a JSON object with '
                        f'images/annotations/categories, got {type(ds).__name__})')
    for key in ('images', 'annotations', 'categories'):
        if not isinstance(ds.get(key), list):
            raise UserError(f'{name}: not a COCO ground-truth file (missing list "{key}")')
    img_ids = [img.get('id') if isinstance(img, dict) else None for img in ds['images']]
    if any(i is None for i in img_ids):
        raise UserError(f'{name}: every image needs an "id"')
    img_set = set(img_ids)
    if len(img_set) != len(img_ids):
        raise UserError(f'{name}: duplicate image ids')
    if any(not isinstance(c, dict) or 'id' not in c for c in ds['categories']):
        raise UserError(f'{name}: every category needs an "id"')
    sized = {img['id'] for img in ds['images'] if 'height' in img and 'width' in img}
    ann_ids = set()
    for ann in ds['annotations']:
        if not isinstance(ann, dict):
            raise UserError(f'{name}: annotations must be objects')
        missing = [k for k in ('id', 'image_id', 'category_id', 'bbox', 'area', 'iscrowd')
                   if k not in ann]
        if missing:
            raise UserError(f'{name}: annotation {ann.get("id", "?")} lacks '
                            f'{", ".join(missing)} (required by COCOeval)')
        if ann['id'] == 0:
            # dtMatches stores the matched gt id, 0 meaning "unmatched":
            # a detection matched to annotation 0 would count as a miss.
            raise UserError(f'{name}: annotation id 0 found; pycocotools treats a match to '
                            'id 0 as no match, renumber annotations from 1')
        if ann['id'] in ann_ids:
            raise UserError(f'{name}: duplicate annotation id {ann["id"]}')
        ann_ids.add(ann['id'])
        if ann['image_id'] not in img_set:
            raise UserError(f'{name}: annotation {ann["id"]} refers to image id '
                            f'{ann["image_id"]} absent from "images"')
        segm = ann.get('segmentation')
        if (isinstance(segm, list) or isinstance(segm, dict) and isinstance(
                segm.get('counts'), list)) and ann['image_id'] not in sized:
            raise UserError(f'{name}: annotation {ann["id"]} has polygons / uncompressed RLE '
                            f'but image {ann["image_id"]} has no height/width')


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
        name, ds = os.fspath(gt), read_json(gt, 'ground-truth')
    else:
        raise TypeError(f'gt must be a COCO, dict or path, got {type(gt)}')
    _validate_gt_dataset(ds, name)
    coco = COCO()
    coco.dataset = ds
    coco.source = name  # for error messages
    with quiet():
        coco.createIndex()
    return coco


def gt_name(gt: COCO) -> str:
    """The file a ground truth came from (or ``<ground truth>``), for messages."""
    return getattr(gt, 'source', '<ground truth>')


def check_has_masks(gt: COCO) -> None:
    """Segm evaluation needs a segmentation on every ground-truth annotation."""
    no_mask = [a['id'] for a in gt.dataset['annotations'] if 'segmentation' not in a]
    if no_mask:
        raise UserError(f'{gt_name(gt)}: {len(no_mask)} annotation(s) without segmentation '
                        f'(e.g. id {no_mask[0]}): no segm evaluation')
