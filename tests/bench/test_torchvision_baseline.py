"""The torchvision yardstick as an mmengine model: it trains and predicts on mmdet
batches; its backbone follows the config; the speed-up ratios."""
import math

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from helpers import CPU_CONFIG, make_det_batch
from pennfudan_bench.torchvision_baseline import (BaselineDetector, baseline_backbone,
                                                  plain_optim_wrapper, speedups)
from pennfudan_vit.errors import UserError


def test_trains_and_predicts_on_mmdet_batches():
    cfg = Config.fromfile(CPU_CONFIG)
    torch.manual_seed(0)
    model = BaselineDetector(cfg, (64, 64))
    assert model.net.transform.min_size == (64, ) and model.net.transform.max_size == 64
    ow_cfg = plain_optim_wrapper(cfg)
    assert ow_cfg['optimizer'].type == 'AdamW' and 'paramwise_cfg' not in ow_cfg
    losses = model.train().train_step(make_det_batch(h=64, w=64, n_img=2),
                                      build_optim_wrapper(model, ow_cfg))
    assert {'loss_classifier', 'loss_mask', 'loss_objectness'} <= set(losses)
    assert all(math.isfinite(v.item()) for v in losses.values())
    with torch.inference_mode():
        out = model.eval().test_step(make_det_batch(h=64, w=64, with_gt=False))
    assert len(out) == 1 and {'boxes', 'labels', 'scores', 'masks'} <= set(out[0])


def test_backbone_args_and_speedups():
    cfg = Config.fromfile(CPU_CONFIG)
    assert baseline_backbone(cfg) == dict(arch='deit-tiny', patch_size=16, drop_path_rate=0.0)
    cfg.model.backbone = dict(type='ResNet', depth=50)
    with pytest.raises(UserError, match='VisionTransformer backbone; the config has ResNet'):
        baseline_backbone(cfg)
    rec = dict(train=dict(sec_per_iter=dict(median=1.0)),
               infer=dict(latency_ms_batch1=dict(median=100.0), img_per_s=4.0),
               reference=dict(train=dict(sec_per_iter=dict(median=3.0)),
                              infer=dict(latency_ms_batch1=dict(median=400.0), img_per_s=1.0)))
    assert speedups(rec, rec['reference']) == dict(train=3.0, infer_latency=4.0, infer_throughput=4.0)
