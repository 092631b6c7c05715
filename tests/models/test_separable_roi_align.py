"""SeparableRoIAlign: torchvision's aligned RoIAlign with a backward of two matrix
products (the same values and gradients); the ViT configs' RoI extractors use it."""
import pytest
import torch
import torchvision
from mmengine.optim import build_optim_wrapper

from helpers import CPU_CONFIG, make_det_batch
from pennfudan_vit.errors import UserError
from pennfudan_vit.models import separable_roi_align as sra
from pennfudan_vit.models.separable_roi_align import (SeparableRoIAlign, SeparableRoIExtractor,
                                                      separable_roi_align)


def _rois(n_images: int, h: int, w: int, scale: float) -> torch.Tensor:
    """RoIs over the map, past its borders, below one cell and on all images but the
    first (an image without RoIs)."""
    g = torch.Generator().manual_seed(0)
    xy = (torch.rand(60, 2, generator=g) * 1.4 - 0.2) * torch.tensor([w, h]) / scale
    wh = torch.rand(60, 2, generator=g) * torch.tensor([w, h]) / scale * 0.6
    wh[:5] = 0.3 / scale
    image = torch.randint(1, n_images, (60, 1), generator=g).float()
    return torch.cat([image, xy, xy + wh], 1)


@pytest.mark.parametrize('shape,output_size,scale', [
    ((2, 16, 20, 30), (7, 7), 1 / 4), ((3, 8, 9, 7), (14, 14), 1 / 8)])
@pytest.mark.parametrize('chunk', [sra.CHUNK_ELEMENTS, 500])   # 500: a few RoIs a product
def test_torchvisions_values_and_gradients(shape, output_size, scale, chunk, monkeypatch):
    monkeypatch.setattr(sra, 'CHUNK_ELEMENTS', chunk)
    feat = torch.randn(*shape, generator=torch.Generator().manual_seed(1))
    rois = _rois(shape[0], *shape[2:], scale)
    outs, grads = [], []
    for fn in (torchvision.ops.roi_align, separable_roi_align):
        x = feat.clone().requires_grad_(True)
        out = (fn(x, rois, output_size, scale, 2, True) if fn is torchvision.ops.roi_align
               else fn(x, rois, output_size, scale, 2))
        out.backward(torch.ones_like(out) * torch.arange(out.numel()).reshape(out.shape) % 7)
        outs.append(out.detach())
        grads.append(x.grad)
    assert outs[0].abs().max() > 0 and not outs[1][rois[:, 0] == 0].numel()
    assert torch.equal(outs[1], outs[0])   # torchvision's forward kernel
    torch.testing.assert_close(grads[1], grads[0], rtol=1e-5, atol=1e-4)   # sum order
    assert separable_roi_align(feat, rois[:0], output_size, scale, 2).shape == (
        0, shape[1], *output_size)


def test_under_cpu_bf16_autocast_runs_in_fp32_and_returns_the_input_dtype():
    feat = torch.randn(2, 16, 24, 24, generator=torch.Generator().manual_seed(1))
    rois = _rois(2, 24, 24, 1 / 8)
    ref = torchvision.ops.roi_align(feat, rois, (7, 7), 1 / 8, 2, True)
    x = feat.bfloat16().requires_grad_(True)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        out = separable_roi_align(x, rois, (7, 7), 1 / 8, 2)
    out.float().sum().backward()
    assert out.dtype == x.grad.dtype == torch.bfloat16
    ref_bf16 = torchvision.ops.roi_align(feat.bfloat16().float(), rois, (7, 7), 1 / 8, 2, True)
    assert torch.equal(out, ref_bf16.bfloat16()) and (out.float() - ref).abs().max() < 0.05


def test_refuses_what_it_cannot_compute():
    with pytest.raises(UserError, match='sampling_ratio > 0'):
        SeparableRoIAlign(7, 1 / 8, sampling_ratio=0)
    with pytest.raises(UserError, match='takes roi_layer type RoIAlign'):
        SeparableRoIExtractor(roi_layer=dict(type='RoIPool', output_size=7), out_channels=8,
                              featmap_strides=[8])


def test_the_cpu_config_uses_it_trains_and_exports_its_settings():
    from mmdet.registry import MODELS

    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.onnx_model import _roi_extractor
    cfg = load_config(CPU_CONFIG)
    cfg.model.backbone.img_size = 128
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    extractor = model.roi_head.bbox_roi_extractor
    assert isinstance(extractor, SeparableRoIExtractor)
    assert all(type(layer) is SeparableRoIAlign for layer in extractor.roi_layers)
    losses = model.train_step(make_det_batch(128, 128),
                              build_optim_wrapper(model, cfg.optim_wrapper))
    assert all(torch.isfinite(v).all() for v in losses.values())
    assert _roi_extractor(extractor)['sampling_ratio'] == 2   # the ONNX graph's RoIAlign
