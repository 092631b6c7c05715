"""Every top-level config loads, builds, trains one step and predicts on CPU.

Sizes are scaled down through config overrides only (no special code paths).
"""
from pathlib import Path

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from helpers import make_det_batch

ROOT = Path(__file__).resolve().parents[2]
CONFIGS = sorted(p.name for p in (ROOT / 'configs').glob('*.py'))


def small(cfg: Config) -> Config:
    """Shrink a config for a CPU smoke test: no downloads, small ViT grid, fp32."""
    bb = cfg.model.backbone
    bb.init_cfg = None
    if 'img_size' in bb:
        bb.img_size = 64
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.optim_wrapper.pop('loss_scale', None)
    return cfg


# run with make test-all: ViT-L and ViT-S are the main config's code at other sizes; the
# COCO-fine-tune config is the R50 one plus load_from (test_finetune_config.py loads it)
SAME_CODE_AS_ANOTHER = ('vit-l_', 'vit-s_', 'r50-fpn_coco-ft_')


@pytest.mark.parametrize('name', [
    pytest.param(n, marks=pytest.mark.slow) if n.startswith(SAME_CODE_AS_ANOTHER) else n
    for n in CONFIGS])
def test_config_trains_one_step_and_predicts(name):
    from mmdet.registry import MODELS
    cfg = small(Config.fromfile(str(ROOT / 'configs' / name)))
    assert cfg.train_dataloader.dataset.metainfo.classes == ('pedestrian', )
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    before = [p.detach().clone() for p in model.parameters() if p.requires_grad]
    losses = model.train_step(make_det_batch(64, 96), wrapper)
    assert {'loss_rpn_cls', 'loss_cls', 'loss_bbox', 'loss_mask'} <= set(losses)
    assert all(torch.isfinite(v).all() for v in losses.values())
    after = [p for p in model.parameters() if p.requires_grad]
    assert any(not torch.equal(a, b) for a, b in zip(before, after))
    model.eval()
    with torch.no_grad():
        preds = model.val_step(make_det_batch(64, 96, with_gt=False))
    inst = preds[0].pred_instances
    assert {'bboxes', 'scores', 'labels', 'masks'} <= set(inst.keys())
    assert inst.masks.shape[-2:] == (64, 96)
