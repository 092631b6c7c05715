"""RoIAlign (``aligned=True``, average, fixed sampling grid) whose CPU backward runs as two
matrix products.

torchvision's CPU RoIAlign backward runs on one thread and scatters into the feature map
sample by sample, one of the largest ops of a CPU training step (docs/benchmarks.md). Bilinear
sampling weights factor into a row part and a column part, and so do the average over a
bin's sampling grid and the rule that drops samples outside the map. So one RoI's output
is ``Wy @ F @ Wx^T`` per channel, with ``Wy`` (bins x H) and ``Wx`` (bins x W) built from
the fp32 box alone, and the gradient of the map is ``sum over RoIs of Wy^T @ G @ Wx``:
matrix products on every core.

The forward is torchvision's kernel, so values (and inference, and ONNX export) are those
of mmcv's ``RoIAlign(use_torchvision=True)``; gradients equal torchvision's up to the
order of float sums. On CUDA torchvision's own parallel backward is kept.
"""
from typing import List

import torch
import torchvision
from mmcv.ops import RoIAlign
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from torch import Tensor, nn

from ..errors import UserError

# RoIs per backward product: bounds its temporary (RoIs x channels x bins x map width)
CHUNK_ELEMENTS = 1 << 22


def axis_weights(start: Tensor, length: Tensor, bins: int, size: int, grid: int) -> Tensor:
    """(R, bins, size): the weights of map rows (or columns) for each RoI's bins, averaged
    over ``grid`` samples a bin, as torchvision's bilinear interpolation takes them."""
    step = torch.arange(bins, dtype=start.dtype, device=start.device)[:, None] + (
        torch.arange(grid, dtype=start.dtype, device=start.device) + 0.5) / grid
    pos = start[:, None, None] + step * (length / bins)[:, None, None]       # (R, bins, grid)
    inside = (pos >= -1.0) & (pos <= size)
    pos = pos.clamp(min=0)
    low = pos.floor().clamp(max=size - 1)
    frac = torch.where(low >= size - 1, torch.zeros_like(pos), pos - low)
    high = (low + 1).clamp(max=size - 1)
    cells = torch.arange(size, dtype=start.dtype, device=start.device)
    weights = ((1 - frac)[..., None] * (cells == low[..., None])
               + frac[..., None] * (cells == high[..., None]))
    return (weights * inside[..., None]).mean(2)


def roi_align_grad(grad: Tensor, rois: Tensor, shape, spatial_scale: float,
                   sampling_ratio: int) -> Tensor:
    """The gradient of the (N, C, H, W) map ``shape`` for ``grad`` of torchvision's
    ``roi_align(feats, rois, grad.shape[2:], spatial_scale, sampling_ratio, aligned=True)``:
    per image and chunk of RoIs, ``Wy^T @ (G @ Wx)``."""
    n, c, h, w = shape
    ph, pw = grad.shape[2:]
    rois = rois.float()
    x1, y1, x2, y2 = (rois[:, k] * spatial_scale - 0.5 for k in range(1, 5))
    wy = axis_weights(y1, y2 - y1, ph, h, sampling_ratio).to(grad.dtype)
    wx = axis_weights(x1, x2 - x1, pw, w, sampling_ratio).to(grad.dtype)
    out = grad.new_zeros(n, h, c * w)
    image = rois[:, 0].long()
    chunk = max(1, CHUNK_ELEMENTS // (c * ph * w))
    for b in range(n):
        index = (image == b).nonzero().flatten()
        for part in index.split(chunk):
            k = len(part)
            # columns: (k, C*ph, pw) @ (k, pw, W); rows: (H, k*ph) @ (k*ph, C*W)
            cols = torch.bmm(grad[part].reshape(k, c * ph, pw), wx[part])
            cols = cols.reshape(k, c, ph, w).transpose(1, 2).reshape(k * ph, c * w)
            out[b] += wy[part].reshape(k * ph, h).t() @ cols
    return out.reshape(n, h, c, w).transpose(1, 2).contiguous()


class _RoIAlign(torch.autograd.Function):
    """torchvision's forward, :func:`roi_align_grad` backward."""

    @staticmethod
    def forward(ctx, feats: Tensor, rois: Tensor, output_size, spatial_scale: float,
                sampling_ratio: int) -> Tensor:
        ctx.save_for_backward(rois)
        ctx.args = (feats.shape, spatial_scale, sampling_ratio)
        return torchvision.ops.roi_align(feats, rois, output_size, spatial_scale,
                                         sampling_ratio, True)

    @staticmethod
    def backward(ctx, grad: Tensor):
        rois, = ctx.saved_tensors
        return roi_align_grad(grad, rois, *ctx.args), None, None, None, None


def separable_roi_align(feats: Tensor, rois: Tensor, output_size, spatial_scale: float,
                        sampling_ratio: int) -> Tensor:
    """``torchvision.ops.roi_align(feats, rois, output_size, spatial_scale, sampling_ratio,
    aligned=True)`` for (N, C, H, W) ``feats`` and (K, 5) ``rois`` (image index, x1, y1,
    x2, y2), with :func:`roi_align_grad` as its backward on a CPU."""
    if feats.device.type == 'cpu' and feats.requires_grad and torch.is_grad_enabled():
        # autocast: torchvision's kernel runs in fp32 and so does this backward; one copy
        # into the contiguous layout the kernel reads (it would copy a channels-last map)
        return _RoIAlign.apply(feats.to(torch.float32, memory_format=torch.contiguous_format),
                               rois, output_size, spatial_scale, sampling_ratio).to(feats.dtype)
    return torchvision.ops.roi_align(feats, rois, output_size, spatial_scale, sampling_ratio,
                                     True)


class SeparableRoIAlign(RoIAlign):
    """mmcv ``RoIAlign`` (same arguments) computed by :func:`separable_roi_align`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.aligned or self.pool_mode != 'avg' or self.sampling_ratio <= 0:
            raise UserError('SeparableRoIAlign needs aligned=True, pool_mode="avg" and '
                             f'sampling_ratio > 0; got {self!r}; for other settings use '
                             'type=SingleRoIExtractor for the RoI extractor')

    def forward(self, input: Tensor, rois: Tensor) -> Tensor:
        return separable_roi_align(input, rois, self.output_size, self.spatial_scale,
                                   self.sampling_ratio)


@MODELS.register_module()
class SeparableRoIExtractor(SingleRoIExtractor):
    """``SingleRoIExtractor`` whose ``roi_layer=dict(type='RoIAlign', ...)`` runs as
    :class:`SeparableRoIAlign`."""

    def build_roi_layers(self, layer_cfg: dict, featmap_strides: List[int]) -> nn.ModuleList:
        cfg = dict(layer_cfg)
        if cfg.pop('type') != 'RoIAlign':
            raise UserError(f'SeparableRoIExtractor takes roi_layer type RoIAlign; got '
                             f'{layer_cfg}')
        return nn.ModuleList(SeparableRoIAlign(spatial_scale=1 / s, **cfg)
                             for s in featmap_strides)
