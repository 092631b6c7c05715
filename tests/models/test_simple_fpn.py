import pytest
import torch

from pennfudan_vit.models import SimpleFPN


def _expected_shapes(h, w, n=5):
    shapes = [(4 * h, 4 * w), (2 * h, 2 * w), (h, w), (h // 2, w // 2)]
    while len(shapes) < n:
        ph, pw = shapes[-1]
        shapes.append(((ph - 1) // 2 + 1, (pw - 1) // 2 + 1))
    return shapes


@pytest.mark.parametrize('width', [192, 384, 768, 1024, 1280])
@pytest.mark.parametrize('hw', [(4, 4), (3, 5), (6, 2)])
def test_shapes_for_widths_and_non_square(width, hw):
    neck = SimpleFPN(backbone_channel=width, out_channels=32, num_outs=5)
    x = torch.randn(2, width, *hw)
    outs = neck((x, ))  # mmpretrain ViT returns a tuple of feature maps
    assert len(outs) == 5
    for out, (eh, ew) in zip(outs, _expected_shapes(*hw)):
        assert out.shape == (2, 32, eh, ew)
    assert neck.in_channels == [width // 4, width // 2, width, width]


@pytest.mark.parametrize('norm_cfg', [
    dict(type='mmpretrain.LN2d', eps=1e-6), dict(type='BN'),
    dict(type='GN', num_groups=8), None])
def test_norm_configs(norm_cfg):
    neck = SimpleFPN(backbone_channel=64, out_channels=16, norm_cfg=norm_cfg)
    outs = neck(torch.randn(2, 64, 4, 6))
    assert [o.shape[-2:] for o in outs][:3] == [(16, 24), (8, 12), (4, 6)]
    # norm layers sit in the lateral/output convs when configured
    has_norm = any(m.with_norm for m in neck.lateral_convs)
    assert has_norm == (norm_cfg is not None)


def test_gradients_flow_to_every_level():
    neck = SimpleFPN(backbone_channel=64, out_channels=16)
    x = torch.randn(1, 64, 4, 4, requires_grad=True)
    sum(o.sum() for o in neck(x)).backward()
    for name, p in neck.named_parameters():
        assert p.grad is not None, name


def test_wrong_width_is_a_clear_error():
    neck = SimpleFPN(backbone_channel=768)
    with pytest.raises(ValueError, match='backbone_channel'):
        neck(torch.randn(1, 384, 4, 4))


def test_bad_arguments():
    with pytest.raises(ValueError, match='4 entries'):
        SimpleFPN(backbone_channel=64, in_channels=[16, 32, 64])
    with pytest.raises(ValueError, match='num_outs'):
        SimpleFPN(backbone_channel=64, num_outs=3)
    with pytest.raises(ValueError, match='start_level'):
        SimpleFPN(backbone_channel=64, start_level=4)
    with pytest.raises(ValueError, match=r'num_outs must be >= 3 \(start_level=1\)'):
        SimpleFPN(backbone_channel=64, start_level=1, num_outs=2)


@pytest.mark.parametrize('start_level', [1, 2])
def test_start_level_skips_the_fine_levels(start_level):
    neck = SimpleFPN(backbone_channel=64, out_channels=16, start_level=start_level,
                     num_outs=5 - start_level)
    outs = neck(torch.randn(2, 64, 4, 6))
    full = _expected_shapes(4, 6, n=5)
    assert [tuple(o.shape[-2:]) for o in outs] == full[start_level:]
    # the skipped levels' deconvs and convs are not built at all
    names = {n.split('.')[0] for n, _ in neck.named_parameters()}
    assert 'fpn1' not in names and len(neck.lateral_convs) == 4 - start_level
    assert sum(p.numel() for p in neck.parameters()) < sum(
        p.numel() for p in SimpleFPN(backbone_channel=64, out_channels=16).parameters())


def test_state_dict_keeps_vitdet_names():
    """fpn1..fpn4 as in ViTDet's SimpleFPN, so its checkpoints load by name."""
    keys = SimpleFPN(backbone_channel=64, out_channels=16).state_dict().keys()
    assert {k.split('.')[0] for k in keys} == {
        'fpn1', 'fpn2', 'lateral_convs', 'fpn_convs'}


@pytest.mark.parametrize('hw', [(64, 96), (70, 100), (96, 64)])
def test_with_mmpretrain_vit_any_size(hw):
    """Real mmpretrain ViT + preprocessor padding, square and non-square."""
    from mmdet.models.data_preprocessors import DetDataPreprocessor
    from mmdet.registry import MODELS
    vit = MODELS.build(dict(type='mmpretrain.VisionTransformer', arch='deit-tiny',
                            img_size=64, patch_size=16, out_type='featmap',
                            with_cls_token=True))
    vit.eval()  # (mmpretrain's train() returns None, so no chaining)
    neck = SimpleFPN(backbone_channel=192, out_channels=32)
    pre = DetDataPreprocessor(pad_size_divisor=32)
    from mmdet.structures import DetDataSample
    data = pre(dict(inputs=[torch.randint(0, 255, (3, *hw), dtype=torch.uint8)],
                    data_samples=[DetDataSample(metainfo=dict(img_shape=hw))]))
    x = data['inputs']
    ph, pw = x.shape[-2:]
    assert ph % 32 == 0 and pw % 32 == 0
    with torch.no_grad():
        feats = vit(x)
        outs = neck(feats)
    assert feats[0].shape == (1, 192, ph // 16, pw // 16)
    for out, stride in zip(outs, (4, 8, 16, 32)):
        assert out.shape[-2:] == (ph // stride, pw // stride)
