"""mmdet's data-dependent Mask R-CNN steps in torch ops that trace to standard ONNX.

Each function reproduces one mmdet/mmcv step (named in its docstring) with
sizes taken from tensors, so the traced graph keeps dynamic shapes and holds
only standard operators (TopK, NonMaxSuppression, RoiAlign, NonZero, ...).
"""
import math
from typing import List, Sequence

import torch
from torch import Tensor
from torchvision.ops import nms, roi_align


def topk_count(scores: Tensor, k: int) -> Tensor:
    """``min(k, len(scores))`` that stays a graph value while tracing."""
    n = torch._shape_as_tensor(scores)[0].unsqueeze(0)
    return torch.min(torch.cat([torch.tensor([k], dtype=n.dtype), n])).squeeze()


def grid_anchors(base_anchors: Tensor, stride: Sequence[float], feat: Tensor) -> Tensor:
    """(H*W*A, 4) anchors over ``feat``'s grid, as mmdet ``AnchorGenerator.grid_priors``."""
    h, w = feat.shape[-2], feat.shape[-1]
    shift_x = torch.arange(w, dtype=torch.float32) * stride[0]
    shift_y = torch.arange(h, dtype=torch.float32) * stride[1]
    yy, xx = torch.meshgrid(shift_y, shift_x, indexing='ij')
    shifts = torch.stack([xx, yy, xx, yy], dim=-1).reshape(-1, 1, 4)
    return (base_anchors[None] + shifts).reshape(-1, 4)


def delta2bbox(rois: Tensor, deltas: Tensor, means: Tensor, stds: Tensor, image_hw: Tensor,
               wh_ratio_clip: float = 16 / 1000, clip_border: bool = True) -> Tensor:
    """mmdet ``delta2bbox`` (DeltaXYWHBBoxCoder.decode) clipped to the valid image (h, w)."""
    d = deltas * stds + means
    pxy = (rois[:, :2] + rois[:, 2:]) * 0.5
    pwh = rois[:, 2:] - rois[:, :2]
    dxy_wh = pwh * d[:, :2]
    max_ratio = abs(math.log(wh_ratio_clip))
    dwh = d[:, 2:].clamp(min=-max_ratio, max=max_ratio)
    gxy = pxy + dxy_wh
    gwh = pwh * dwh.exp()
    boxes = torch.cat([gxy - gwh * 0.5, gxy + gwh * 0.5], dim=-1)
    if clip_border:
        limit = image_hw.flip(0).repeat(2)
        boxes = torch.minimum(boxes.clamp(min=0), limit)
    return boxes


def batched_nms(boxes: Tensor, scores: Tensor, groups: Tensor, iou_threshold: float) -> Tensor:
    """Kept indices, best first, of mmcv ``batched_nms`` (per-group NMS by coordinate offsets)."""
    # mmcv offsets by max + 1; the appended 0 only keeps an empty input valid
    top = torch.cat([boxes.reshape(-1), boxes.new_zeros(1)]).max()
    offsets = groups.to(boxes.dtype) * (top + 1)
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def roi_levels(rois: Tensor, finest_scale: float, num_levels: int) -> Tensor:
    """Pyramid level of each RoI, as mmdet ``SingleRoIExtractor.map_roi_levels``."""
    scale = torch.sqrt((rois[:, 3] - rois[:, 1]) * (rois[:, 4] - rois[:, 2]))
    levels = torch.floor(torch.log2(scale / finest_scale + 1e-6))
    return levels.clamp(min=0, max=num_levels - 1).long()


def multilevel_roi_align(feats: List[Tensor], rois: Tensor, strides: Sequence[int],
                         output_size: Sequence[int], sampling_ratio: int,
                         finest_scale: float) -> Tensor:
    """mmdet ``SingleRoIExtractor`` with mmcv ``RoIAlign(aligned=True)`` for (K, 5) RoIs.

    Each level pools only its own RoIs; the per-level results are concatenated
    and put back in RoI order with one gather (cheaper than scattering with a
    full-size index, as torchvision's ``MultiScaleRoIAlign`` does).
    """
    levels = roi_levels(rois, finest_scale, len(strides))
    pooled, order = [], []
    for level, (feat, stride) in enumerate(zip(feats, strides)):
        idx = torch.where(levels == level)[0]
        pooled.append(roi_align(feat, rois[idx], tuple(output_size), spatial_scale=1.0 / stride,
                                sampling_ratio=sampling_ratio, aligned=True))
        order.append(idx)
    # position of each RoI in the level-sorted concatenation
    where = torch.argsort(torch.cat(order))
    return torch.cat(pooled)[where]


def with_batch_index(boxes: Tensor) -> Tensor:
    """(K, 4) boxes of image 0 as (K, 5) RoIs, as mmdet ``bbox2roi``."""
    return torch.cat([torch.zeros_like(boxes[:, :1]), boxes], dim=1)
