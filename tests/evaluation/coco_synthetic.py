"""Synthetic COCO ground truth and predictions for the evaluation tests (numpy + pycocotools)."""
import contextlib
import copy
import io

import numpy as np
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

H, W = 96, 128
IOU_TYPES = ('bbox', 'segm')
METRICS = ('AP', 'AP50', 'AP75')


def _shape_mask(rng, kind):
    """A random rectangle or ellipse (person-like: taller than wide)."""
    w = int(rng.integers(8, 40))
    h = int(rng.integers(16, 70))
    x0 = int(rng.integers(0, W - w))
    y0 = int(rng.integers(0, H - h))
    m = np.zeros((H, W), dtype=np.uint8)
    if kind == 'rect':
        m[y0:y0 + h, x0:x0 + w] = 1
    else:
        yy, xx = np.mgrid[:H, :W]
        cy, cx = y0 + h / 2, x0 + w / 2
        m[((yy - cy) / (h / 2))**2 + ((xx - cx) / (w / 2))**2 <= 1] = 1
    return m


def _rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')  # as mmdet writes it
    return rle


def _shift(mask, dx, dy):
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    ys, xs = np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)
    out[ys, xs] = 1
    return out


def _det(image_id, mask, score, cat=1):
    rle = _rle(mask)
    box = [float(v) for v in mask_utils.toBbox(rle)]
    # scores on a 0.05 grid: ties across images exercise the sort order
    score = round(float(score) * 20) / 20
    return ({'image_id': image_id, 'category_id': cat, 'bbox': box,
             'score': score},
            {'image_id': image_id, 'category_id': cat, 'bbox': box,
             'score': score, 'segmentation': rle})


def make_dataset(num_images=30, seed=0, num_cats=1):
    """GT dict and (bbox, segm) results with known per-image quality.

    Image i is 'perfect' (exact masks), 'shifted' (1-4 px off), 'missed'
    (people missed) or 'noisy' (false positives, some high-scoring);
    image 0 has no person but a false positive, image 1 is empty.
    """
    rng = np.random.default_rng(seed)
    images, anns, bbox_res, segm_res = [], [], [], []
    ann_id = 1
    for i in range(num_images):
        img_id = 100 + 7 * i  # non-contiguous ids
        images.append({'id': img_id, 'file_name': f'{i}.png', 'height': H,
                       'width': W})
        quality = ('perfect', 'shifted', 'missed', 'noisy')[i % 4]
        n_obj = 0 if i < 2 else int(rng.integers(2, 7))
        for _ in range(n_obj):
            cat = int(rng.integers(1, num_cats + 1))
            m = _shape_mask(rng, 'rect' if rng.random() < 0.5 else 'ellipse')
            rle = _rle(m)
            anns.append({'id': ann_id, 'image_id': img_id,
                         'category_id': cat, 'segmentation': rle,
                         'area': float(mask_utils.area(rle)),
                         'bbox': [float(v) for v in mask_utils.toBbox(rle)],
                         'iscrowd': 0})
            ann_id += 1
            if quality == 'perfect':
                pred, score = m, rng.uniform(0.6, 1.0)
            elif quality == 'shifted':
                pred = _shift(m, int(rng.integers(1, 5)),
                              int(rng.integers(-3, 4)))
                score = rng.uniform(0.3, 0.9)
            elif quality == 'missed' and rng.random() < 0.4:
                continue
            else:
                pred = _shift(m, int(rng.integers(-2, 3)), 1)
                score = rng.uniform(0.2, 1.0)
            b, s = _det(img_id, pred, score, cat)
            bbox_res.append(b)
            segm_res.append(s)
        n_fp = {'noisy': 2, 'missed': 1}.get(quality, 0) + (i == 0)
        if i == 1:
            n_fp = 0
        for _ in range(n_fp):
            b, s = _det(img_id, _shape_mask(rng, 'rect'),
                        rng.uniform(0.05, 0.8),
                        int(rng.integers(1, num_cats + 1)))
            bbox_res.append(b)
            segm_res.append(s)
    cats = [{'id': c, 'name': f'c{c}'} for c in range(1, num_cats + 1)]
    gt = {'images': images, 'annotations': anns, 'categories': cats}
    return gt, {'bbox': bbox_res, 'segm': segm_res}


def gt_as_predictions(gt, iou_type):
    res = []
    for a in gt['annotations']:
        d = {'image_id': a['image_id'], 'category_id': a['category_id'],
             'bbox': list(a['bbox']), 'score': 1.0}
        if iou_type == 'segm':
            d['segmentation'] = dict(a['segmentation'])
        res.append(d)
    return res


def degrade(dets, iou_type, seed=1):
    """A worse copy: every prediction shifted 4 px, half the scores cut."""
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(dets)
    for d in out:
        d['bbox'][0] += 4
        if iou_type == 'segm':
            m = mask_utils.decode(d['segmentation'])
            d['segmentation'] = _rle(_shift(m, 4, 0))
        if rng.random() < 0.5:
            d['score'] *= 0.3
    return out


def coco_stats(gt, dets, iou_type):
    """Plain pycocotools on fresh objects: the reference."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def duplicate(gt, dets, sample):
    """Physically build the multiset ``sample`` (positions into sorted ids).

    Each draw becomes a new image (ids 1.. in sample order) with fresh
    annotation ids, so plain COCOeval sees duplicated images as distinct.
    """
    img_ids = sorted(img['id'] for img in gt['images'])
    by_img = {i: [a for a in gt['annotations'] if a['image_id'] == i]
              for i in img_ids}
    dets_by_img = {i: [d for d in dets if d['image_id'] == i]
                   for i in img_ids}
    images, anns, new_dets = [], [], []
    for new_id, pos in enumerate(sample, start=1):
        old = img_ids[pos]
        images.append({'id': new_id, 'height': H, 'width': W})
        for a in by_img[old]:
            anns.append(dict(copy.deepcopy(a), id=len(anns) + 1,
                             image_id=new_id))
        for d in dets_by_img[old]:
            new_dets.append(dict(copy.deepcopy(d), image_id=new_id))
    return ({'images': images, 'annotations': anns,
             'categories': gt['categories']}, new_dets)


def subset(gt, dets, img_ids):
    """Ground truth and detections of ``img_ids`` only (a batch evaluated alone)."""
    keep = set(img_ids)
    return ({'images': [i for i in gt['images'] if i['id'] in keep],
             'annotations': [a for a in gt['annotations'] if a['image_id'] in keep],
             'categories': gt['categories']},
            [d for d in dets if d['image_id'] in keep])


# Hand-made box cases whose AP is known by hand: person k of an image is the box
# PERSON[k]; hit() predicts it exactly (IoU 1), miss() predicts a box far from all.
PERSON = [[5.0 + 15 * k, 5.0, 10.0, 40.0] for k in range(3)]
FAR = [60.0, 55.0, 30.0, 40.0]


def box_gt(people):
    """GT of 100x100 images, ``people`` maps image id -> number of persons."""
    images, anns = [], []
    for img_id, count in people.items():
        images.append({'id': img_id, 'file_name': f'{img_id}.png', 'height': 100, 'width': 100})
        for k in range(count):
            x, y, w, h = PERSON[k]
            anns.append({'id': len(anns) + 1, 'image_id': img_id, 'category_id': 1,
                         'bbox': PERSON[k], 'area': w * h, 'iscrowd': 0})
    return {'images': images, 'annotations': anns,
            'categories': [{'id': 1, 'name': 'pedestrian'}]}


def hit(img_id, k, score):
    """A detection exactly on person ``k`` of image ``img_id``."""
    return {'image_id': img_id, 'category_id': 1, 'bbox': list(PERSON[k]), 'score': score}


def miss(img_id, score):
    """A false positive (overlaps no person)."""
    return {'image_id': img_id, 'category_id': 1, 'bbox': list(FAR), 'score': score}
