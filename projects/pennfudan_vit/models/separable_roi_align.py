"""RoIAlign (``aligned=True``, average, fixed sampling grid) as two matrix products.

Bilinear sampling weights factor into a row part and a column part, and so does the
average over a bin's sampling grid and the rule that drops samples outside the map. So
one RoI's output is ``Wy @ F @ Wx^T`` per channel, with ``Wy`` (bins x H) and ``Wx``
(bins x W) built from the box alone. The box stays fp32 while building them; the products
run in the autocast dtype (bf16 under CPU bf16), and autograd gives a parallel backward.
torchvision's CPU kernel, which the configs use otherwise, runs its backward on one thread.

Values equal torchvision's ``roi_align(..., aligned=True)`` up to float rounding.
Memory grows with RoIs x bins x channels x map width, which suits the CPU config's maps;
use it through ``SeparableRoIExtractor`` in place of mmdet's ``SingleRoIExtractor``.
"""
from typing import List

import torch
from mmcv.ops import RoIAlign
from mmdet.models.roi_heads.roi_extractors import SingleRoIExtractor
from mmdet.registry import MODELS
from torch import Tensor, nn

from ..errors import UserError


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


def separable_roi_align(feats: Tensor, rois: Tensor, output_size, spatial_scale: float,
                        sampling_ratio: int) -> Tensor:
    """``torchvision.ops.roi_align(feats, rois, output_size, spatial_scale, sampling_ratio,
    aligned=True)`` for (N, C, H, W) ``feats`` and (K, 5) ``rois`` (image index, x1, y1,
    x2, y2)."""
    n, c, h, w = feats.shape
    ph, pw = output_size
    rois = rois.float()
    x1, y1, x2, y2 = (rois[:, k] * spatial_scale - 0.5 for k in range(1, 5))
    wy = axis_weights(y1, y2 - y1, ph, h, sampling_ratio)
    wx = axis_weights(x1, x2 - x1, pw, w, sampling_ratio)
    out = feats.new_zeros(len(rois), c, ph, pw)
    image = rois[:, 0].long()
    for b in range(n):
        index = (image == b).nonzero().flatten()
        if not len(index):
            continue
        k = len(index)
        # rows: (k*ph, H) @ (H, C*W); columns: (k, ph*C, W) @ (k, W, pw)
        rows = wy[index].reshape(k * ph, h) @ feats[b].transpose(0, 1).reshape(h, c * w)
        both = torch.bmm(rows.reshape(k, ph * c, w), wx[index].transpose(1, 2))
        out[index] = both.reshape(k, ph, c, pw).transpose(1, 2).to(out.dtype)
    return out


class SeparableRoIAlign(RoIAlign):
    """mmcv ``RoIAlign`` (same arguments) computed by :func:`separable_roi_align`."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not self.aligned or self.pool_mode != 'avg' or self.sampling_ratio <= 0:
            raise UserError('SeparableRoIAlign needs aligned=True, pool_mode="avg" and '
                             f'sampling_ratio > 0; got {self!r}')

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
