import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from pennfudan_vit.engine import get_vit_layer_depth

TINY_ARCH = dict(embed_dims=32, num_layers=3, num_heads=2, feedforward_channels=64)


@pytest.fixture(scope='module')
def tiny_detector(repo_root):
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(repo_root / 'configs' / 'vit_mrcnn_pennfudan.py'))
    cfg.model.backbone.update(arch=TINY_ARCH, img_size=64, init_cfg=None)
    cfg.model.neck.backbone_channel = 32
    return MODELS.build(cfg.model), cfg


def test_depth_of_names():
    L = 12
    assert get_vit_layer_depth('backbone.pos_embed', L) == 0
    assert get_vit_layer_depth('backbone.cls_token', L) == 0
    assert get_vit_layer_depth('backbone.patch_embed.projection.weight', L) == 0
    assert get_vit_layer_depth('backbone.layers.0.attn.qkv.weight', L) == 1
    assert get_vit_layer_depth('backbone.layers.11.ffn.layers.0.0.bias', L) == 12
    assert get_vit_layer_depth('backbone.ln1.weight', L) == 13
    assert get_vit_layer_depth('neck.fpn1.0.weight', L) == 13
    assert get_vit_layer_depth('roi_head.bbox_head.fc_cls.weight', L) == 13


@pytest.mark.parametrize('rate', [0.7, 0.9])
def test_groups_follow_the_formula(tiny_detector, rate):
    model, cfg = tiny_detector
    base_lr, base_wd = 1e-4, 0.1
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor='ViTLayerDecayOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=base_lr, weight_decay=base_wd),
        paramwise_cfg=dict(layer_decay_rate=rate)))
    L = TINY_ARCH['num_layers']
    groups = wrapper.optimizer.param_groups
    # the logged lr (first group's) is the full rate of neck/heads
    assert groups[0]['lr'] == pytest.approx(base_lr)
    seen = {}
    for g in groups:
        for name, p in zip(g['param_names'], g['params']):
            assert name not in seen
            seen[name] = (g['lr'], g['weight_decay'])
    expected_names = {n for n, p in model.named_parameters() if p.requires_grad}
    assert set(seen) == expected_names
    for name, p in model.named_parameters():
        lr, wd = seen[name]
        depth = get_vit_layer_depth(name, L)
        assert lr == pytest.approx(base_lr * rate ** (L + 1 - depth)), name
        no_wd = p.ndim == 1 or name.endswith(('pos_embed', 'cls_token'))
        assert wd == (0. if no_wd else base_wd), name
    # spot checks against hand-computed values
    assert seen['backbone.pos_embed'] == (pytest.approx(base_lr * rate ** 4), 0.)
    assert seen['backbone.cls_token'][1] == 0.
    assert seen['backbone.layers.0.attn.qkv.weight'] == (pytest.approx(base_lr * rate ** 3), base_wd)
    assert seen['backbone.layers.2.ln1.weight'] == (pytest.approx(base_lr * rate), 0.)
    assert seen['backbone.layers.2.attn.qkv.bias'][1] == 0.
    assert seen['neck.lateral_convs.0.conv.weight'] == (pytest.approx(base_lr), base_wd)


def test_optimizer_steps_with_the_groups(tiny_detector):
    model, _ = tiny_detector
    wrapper = build_optim_wrapper(model, dict(
        type='OptimWrapper', constructor='ViTLayerDecayOptimWrapperConstructor',
        optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.1),
        paramwise_cfg=dict(layer_decay_rate=0.5)))
    before = model.backbone.pos_embed.detach().clone()
    loss = sum(p.sum() for p in model.parameters())
    wrapper.update_params(loss)
    assert not torch.equal(before, model.backbone.pos_embed)


def test_bad_paramwise_cfg(tiny_detector):
    model, _ = tiny_detector
    with pytest.raises(ValueError, match='unknown paramwise_cfg keys'):
        build_optim_wrapper(model, dict(
            constructor='ViTLayerDecayOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3),
            paramwise_cfg=dict(layer_decay=0.5)))
    with pytest.raises(ValueError, match=r'in \(0, 1\]'):
        build_optim_wrapper(model, dict(
            constructor='ViTLayerDecayOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3),
            paramwise_cfg=dict(layer_decay_rate=1.5)))


def test_non_vit_backbone_needs_num_layers():
    from mmdet.registry import MODELS

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.backbone = torch.nn.Conv2d(3, 3, 1)
    with pytest.raises(TypeError, match='num_layers'):
        build_optim_wrapper(Net(), dict(
            constructor='ViTLayerDecayOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-3),
            paramwise_cfg=dict(layer_decay_rate=0.5)))
    assert MODELS is not None
