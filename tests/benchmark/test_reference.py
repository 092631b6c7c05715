"""The torchvision reference: batch conversion, a tiny model, the speed-up ratios."""
import math

import pytest
import torch
from mmengine.config import Config

from helpers import CPU_CONFIG, make_det_batch
from pennfudan_vit.benchmark.reference import (build_reference, from_mmdet,
                                               reference_backbone_args, speedups)
from pennfudan_vit.errors import UserError


def test_from_mmdet():
    data = make_det_batch(h=64, w=96, n_img=2)
    images, targets = from_mmdet(data)
    assert len(images) == len(targets) == 2
    img = images[0]
    assert img.dtype == torch.float32 and img.shape == (3, 64, 96)
    assert 0 <= img.min() <= img.max() <= 1
    assert torch.equal(img[0], data['inputs'][0][2].float() / 255)  # BGR -> RGB
    t = targets[0]
    assert t['boxes'].tolist() == [[10., 8., 30., 40.], [50., 20., 80., 60.]]
    assert t['labels'].tolist() == [1, 1] and t['masks'].dtype == torch.uint8
    assert t['masks'].shape == (2, 64, 96)
    assert from_mmdet(data, with_targets=False)[1] == []


def test_tiny_reference_trains_and_predicts():
    torch.manual_seed(0)
    model = build_reference(64, arch='deit-tiny')
    images, targets = from_mmdet(make_det_batch(h=64, w=64))
    losses = model(images, targets)
    assert {'loss_classifier', 'loss_mask', 'loss_objectness'} <= set(losses)
    assert all(math.isfinite(v.item()) for v in losses.values())
    model.eval()
    with torch.inference_mode():
        out = model(images)
    assert len(out) == 1 and {'boxes', 'labels', 'scores', 'masks'} <= set(out[0])


def test_backbone_args_and_speedups():
    cfg = Config.fromfile(CPU_CONFIG)
    assert reference_backbone_args(cfg) == dict(arch='deit-tiny', patch_size=16,
                                                drop_path_rate=0.0)
    cfg.model.backbone = dict(type='ResNet', depth=50)
    with pytest.raises(UserError, match='VisionTransformer backbone; the config has ResNet'):
        reference_backbone_args(cfg)
    rec = dict(train=dict(sec_per_iter=dict(median=1.0)),
               infer=dict(latency_ms_batch1=dict(median=100.0), img_per_s=4.0),
               reference=dict(train=dict(sec_per_iter=dict(median=3.0)),
                              infer=dict(latency_ms_batch1=dict(median=400.0), img_per_s=1.0)))
    assert speedups(rec) == dict(train=3.0, infer_latency=4.0, infer_throughput=4.0)
