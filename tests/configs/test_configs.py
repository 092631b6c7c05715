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


def test_expected_configs_exist():
    assert 'vit_mrcnn_pennfudan.py' in CONFIGS
    assert {'vit-s_mrcnn_pennfudan.py', 'vit-l_mrcnn_pennfudan.py',
            'deit-tiny_mrcnn_pennfudan_cpu.py', 'vit-b-win_mrcnn_pennfudan.py',
            'swin-t_mrcnn_pennfudan.py', 'r50-fpn_mrcnn_pennfudan.py'} <= set(CONFIGS)


def small(cfg: Config) -> Config:
    """Shrink a config for a CPU smoke test: no downloads, small ViT grid, fp32."""
    bb = cfg.model.backbone
    bb.init_cfg = None
    if 'img_size' in bb:
        bb.img_size = 64
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.optim_wrapper.pop('loss_scale', None)
    return cfg


@pytest.mark.parametrize('name', CONFIGS)
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


def test_children_only_state_their_difference():
    """Every config inherits the bases (or a config built on them) and stays small."""
    import re
    for name in CONFIGS:
        text = (ROOT / 'configs' / name).read_text()
        assert re.search(r"_base_ = (\[\n    '_base_/|'\./[\w-]+\.py')", text), name
        assert len(text.splitlines()) < 50, name


def test_config_comments_carry_no_measured_numbers():
    """Measured figures go stale in comments; they belong in docs/."""
    import re
    for path in (ROOT / 'configs').rglob('*.py'):
        for line in path.read_text().splitlines():
            comment = line.partition('#')[2]
            assert not re.search(r'\d+(\.\d+)?\s*(x faster|%|s/iter|ms|minutes)|AP \d', comment), \
                (path.name, line)
