"""The ViT configs run torchvision's RoIAlign kernel through mmcv's RoIAlign."""
import pytest
import torch
from mmcv.ops import RoIAlign

from helpers import CPU_CONFIG


def _rois(n: int, batch: int, size: float) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    xy = torch.rand(n, 2, generator=g) * size * 0.8
    wh = torch.rand(n, 2, generator=g) * size * 0.5 + 4
    idx = torch.randint(0, batch, (n, 1), generator=g).float()
    return torch.cat([idx, xy, xy + wh], 1)


@pytest.mark.parametrize('output_size', [7, 14])
def test_same_values_and_gradients_as_mmcv_kernel(output_size):
    """Switching kernels is a speed change only: equal forward and backward."""
    feat = torch.randn(2, 16, 24, 24, generator=torch.Generator().manual_seed(1))
    rois = _rois(40, 2, 24 * 8)
    grad_out = None
    results = []
    for use_tv in (False, True):
        layer = RoIAlign(output_size, 1 / 8, sampling_ratio=2, aligned=True,
                         use_torchvision=use_tv)
        x = feat.clone().requires_grad_(True)
        out = layer(x, rois)
        if grad_out is None:
            grad_out = torch.randn(out.shape, generator=torch.Generator().manual_seed(2))
        out.backward(grad_out)
        results.append((out.detach(), x.grad))
    (out_mm, grad_mm), (out_tv, grad_tv) = results
    assert torch.equal(out_mm, out_tv)
    assert torch.equal(grad_mm, grad_tv)


def test_cpu_config_extractors_use_it():
    from pennfudan_vit.config import load_config
    cfg = load_config(CPU_CONFIG)
    for name in ('bbox_roi_extractor', 'mask_roi_extractor'):
        assert cfg.model.roi_head[name].roi_layer.use_torchvision is True, name
