"""COCO detection results (mmdet's ``*.bbox.json`` / ``*.segm.json``), validated."""
from __future__ import annotations

import copy
import os
from typing import Any, Optional, Sequence, Union

from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from ..errors import UserError
from ..fileio import read_json
from .inputs import PYCOCO_ERRORS, check_iou_type, is_number, quiet

DetsLike = Union[str, os.PathLike, Sequence[dict]]


def _check_segmentation(segm: Any) -> bool:
    if isinstance(segm, dict):
        size = segm.get('size')
        return (isinstance(size, (list, tuple)) and len(size) == 2
                and all(is_number(v) for v in size)
                and isinstance(segm.get('counts'), (str, bytes, list)))
    return isinstance(segm, list) and len(segm) > 0 and all(
        isinstance(p, list) and len(p) >= 6 for p in segm)


def _check_entry(i: int, ann: Any, need: tuple, iou_type: str, name: str) -> bool:
    """Raise unless entry ``i`` is a valid result; return whether it has a valid box."""
    if not isinstance(ann, dict):
        raise UserError(f'{name}: not a COCO results file: entry {i} is a '
                        f'{type(ann).__name__}, not an object')
    missing = [k for k in need if k not in ann]
    if missing:
        extra = (' (a bbox results file cannot be used for segm evaluation)'
                 if missing == ['segmentation'] else '')
        raise UserError(f'{name}: not COCO {iou_type} results: entry {i} lacks '
                        f'{", ".join(missing)}{extra}')
    if not is_number(ann['score']):
        raise UserError(f'{name}: entry {i} has a non-numeric score {ann["score"]!r}')
    has_box = isinstance(ann.get('bbox'), (list, tuple)) and len(ann['bbox']) == 4 and all(
        is_number(v) for v in ann['bbox'])
    if iou_type == 'bbox' and not has_box:
        raise UserError(f'{name}: entry {i} has an invalid bbox {ann["bbox"]!r} '
                        '(expected [x, y, w, h])')
    if iou_type == 'segm' and not _check_segmentation(ann['segmentation']):
        raise UserError(f'{name}: entry {i} has an invalid segmentation (expected '
                        'RLE {"size", "counts"} or polygons)')
    return has_box


def _validate_results(anns: Any, gt: COCO, iou_type: str, name: str) -> list[dict]:
    """Validate a COCO results list against ``gt``; return a clean copy."""
    if not isinstance(anns, (list, tuple)):
        hint = (' (this looks like a ground-truth file)'
                if isinstance(anns, dict) and 'annotations' in anns else '')
        what = 'an object' if isinstance(anns, dict) else type(anns).__name__
        raise UserError(f'{name}: not a COCO results file: expected a JSON list of '
                        f'detections, got {what}{hint}')
    need = ('image_id', 'category_id', 'score') + (
        ('bbox', ) if iou_type == 'bbox' else ('segmentation', ))
    img_ids, cat_ids = set(gt.getImgIds()), set(gt.getCatIds())
    bad_imgs, bad_cats, out = set(), set(), []
    for i, ann in enumerate(anns):
        has_box = _check_entry(i, ann, need, iou_type, name)
        if ann['image_id'] not in img_ids:
            bad_imgs.add(ann['image_id'])
        elif ann['category_id'] not in cat_ids:
            bad_cats.add(ann['category_id'])
        else:
            keep = dict({k: ann[k] for k in need}, score=float(ann['score']))
            if has_box:
                keep['bbox'] = [float(v) for v in ann['bbox']]
            out.append(keep)
    if bad_imgs:
        raise UserError(f'{name}: detections refer to {len(bad_imgs)} image id(s) absent from '
                        f'the ground truth, e.g. {sorted(bad_imgs, key=str)[:5]}; wrong '
                        'ground-truth file?')
    if bad_cats:
        raise UserError(f'{name}: detections use category id(s) {sorted(bad_cats, key=str)} '
                        f'absent from the ground truth categories {sorted(cat_ids)}')
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
            if None not in hw and [int(s) for s in segm['size']] != [int(hw[0]), int(hw[1])]:
                raise UserError(f'{name}: entry {i} mask size {list(segm["size"])} != image '
                                f'{ann["image_id"]} size [height, width] = {list(hw)}')
        elif None in hw:
            raise UserError(f'{name}: entry {i} uses polygons / uncompressed RLE but '
                            f'ground-truth image {ann["image_id"]} has no height/width')
        elif isinstance(segm, list):  # polygons -> compressed RLE (loadRes needs it)
            segm = mask_utils.merge(mask_utils.frPyObjects(segm, int(hw[0]), int(hw[1])))
        else:
            segm = mask_utils.frPyObjects(segm, int(hw[0]), int(hw[1]))
        segm = dict(segm)  # never share (or alter) the caller's dict
        if isinstance(segm['counts'], bytes):
            segm['counts'] = segm['counts'].decode('ascii')
        ann['segmentation'] = segm
        if not all_boxes:
            ann.pop('bbox', None)


def source_name(dets: DetsLike) -> str:
    """The file detections came from (or ``<detections>``), for messages."""
    return os.fspath(dets) if isinstance(dets, (str, os.PathLike)) else '<detections>'


def load_results(dets: DetsLike, gt: COCO, iou_type: str,
                 score_thr: Optional[float] = None) -> COCO:
    """Load and validate COCO results (list or path) as a ``COCO`` object.

    Input lists are not modified. Empty results are valid (AP = 0). With
    ``score_thr``, detections scoring below it are dropped after validation.
    """
    check_iou_type(iou_type)
    name = source_name(dets)
    anns = read_json(dets, 'detection results') if isinstance(
        dets, (str, os.PathLike)) else dets
    anns = _validate_results(anns, gt, iou_type, name)
    if score_thr is not None:
        anns = [a for a in anns if a['score'] >= score_thr]
    if not anns:  # loadRes indexes anns[0]
        res = COCO()
        res.dataset = dict(images=list(gt.dataset['images']), annotations=[],
                           categories=copy.deepcopy(gt.dataset['categories']))
        with quiet():
            res.createIndex()
        return res
    try:
        with quiet():
            return gt.loadRes(anns)
    except PYCOCO_ERRORS as e:
        raise UserError(f'{name}: pycocotools cannot load these results '
                        f'({type(e).__name__}: {e})') from None
