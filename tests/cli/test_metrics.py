"""The project's test evaluator scores ground truth as 1.0 and a shifted copy lower."""
import numpy as np
import pytest
import torch
from mmengine.config import Config
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO

from pennfudan_vit.apis import set_data_root
from helpers import CPU_CONFIG


def _evaluate(coco_data, shift=0):
    from mmdet.registry import METRICS
    cfg = Config.fromfile(CPU_CONFIG)
    set_data_root(cfg, str(coco_data))
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = dict(classes=('pedestrian', ))
    gt = COCO(cfg.test_evaluator.ann_file)
    samples = []
    for img_id in gt.getImgIds():
        info = gt.loadImgs(img_id)[0]
        anns = gt.loadAnns(gt.getAnnIds(imgIds=img_id))
        boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]] for a in anns], np.float32)
        masks = np.stack([gt.annToMask(a) for a in anns]).astype(bool)
        boxes[:, [0, 2]] += shift
        masks = np.roll(masks, shift, axis=2)
        samples.append(dict(
            img_id=img_id, ori_shape=(info['height'], info['width']),
            pred_instances=dict(bboxes=torch.from_numpy(boxes),
                                scores=torch.ones(len(anns)),
                                labels=torch.zeros(len(anns), dtype=torch.long),
                                masks=torch.from_numpy(masks))))
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_ground_truth_scores_one(coco_data):
    res = _evaluate(coco_data)
    assert res['coco/bbox_mAP'] == pytest.approx(1.0)
    assert res['coco/segm_mAP'] == pytest.approx(1.0)


def test_shifted_ground_truth_scores_lower(coco_data):
    res = _evaluate(coco_data, shift=12)
    assert res['coco/bbox_mAP'] < 0.9
    assert res['coco/segm_mAP'] < 0.9
    assert res['coco/bbox_mAP_50'] > res['coco/bbox_mAP']
