"""The torchvision Mask R-CNN reference that the speed issue names.

This is a yardstick for ``tools/benchmark.py --reference torchvision``, not a
product model: ``torchvision.models.detection.MaskRCNN`` (background +
pedestrian) on the same mmpretrain ViT as our configs (random init), followed
by a simple feature pyramid without learned deconvolutions:

* the stride-16 ViT map is bilinearly interpolated to strides 4 and 8, kept at
  16 and max-pooled to 32;
* torchvision's ``FeaturePyramidNetwork`` (``norm_layer=nn.BatchNorm2d``,
  ``LastLevelMaxPool``, 256 channels) projects each level with its 1x1 lateral
  conv, adds the top-down path and applies its 3x3 output convs;
* everything else is torchvision's default: RPN and RoI heads, anchors,
  ``MultiScaleRoIAlign`` on levels 0-3, proposal and detection counts.

``GeneralizedRCNNTransform`` gets ``min_size``/``max_size`` equal to the input
size and ImageNet mean/std for 0-1 RGB images, so images that already come at
the input size (the config's pipelines) are not resized, only normalised and
batched (padded to a multiple of 32, as mmdet's data preprocessor does).
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Dict, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torchvision.models.detection import MaskRCNN
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

NAME = 'torchvision_maskrcnn_vit_simplefpn'


class ViTSimpleFPNBackbone(nn.Module):
    """mmpretrain ViT -> stride 4/8/16/32 maps -> torchvision FPN (+ max-pool level)."""

    def __init__(self, vit: nn.Module, embed_dims: int, out_channels: int = 256) -> None:
        super().__init__()
        self.vit = vit
        self.fpn = FeaturePyramidNetwork([embed_dims] * 4, out_channels,
                                         extra_blocks=LastLevelMaxPool(),
                                         norm_layer=nn.BatchNorm2d)
        self.out_channels = out_channels   # read by torchvision's MaskRCNN

    def forward(self, images: Tensor) -> Dict[str, Tensor]:
        x = self.vit(images)[-1]           # (B, C, H/16, W/16)
        h, w = x.shape[-2:]
        levels = [F.interpolate(x, size=(4 * h, 4 * w), mode='bilinear', align_corners=False),
                  F.interpolate(x, size=(2 * h, 2 * w), mode='bilinear', align_corners=False),
                  x,
                  F.max_pool2d(x, kernel_size=2, stride=2)]
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(levels)))


def build_reference(input_size: Union[int, Sequence[int]], arch: str = 'deit-tiny',
                    patch_size: int = 16, drop_path_rate: float = 0.0) -> MaskRCNN:
    """The reference at ``input_size`` (H, W or one side), random init."""
    from mmpretrain.models import VisionTransformer
    h, w = (input_size, input_size) if isinstance(input_size, int) else tuple(input_size)
    vit = VisionTransformer(arch=arch, img_size=h if h == w else (h, w), patch_size=patch_size,
                            out_type='featmap', with_cls_token=True,
                            drop_path_rate=drop_path_rate)
    vit.init_weights()
    backbone = ViTSimpleFPNBackbone(vit, vit.embed_dims)
    return MaskRCNN(backbone, num_classes=2, min_size=min(h, w), max_size=max(h, w),
                    image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])


def from_mmdet(data: dict, device: Union[str, torch.device] = 'cpu',
               with_targets: bool = True) -> Tuple[List[Tensor], List[Dict[str, Tensor]]]:
    """torchvision inputs from a collated mmdet batch (``inputs``, ``data_samples``).

    Images: BGR uint8 (as ``LoadImageFromFile`` reads them) -> RGB float in 0-1.
    Targets: boxes (x1, y1, x2, y2), labels 1 (mmdet's class 0 + background),
    masks uint8 (N, H, W) at the image size.
    """
    images = [img.to(device).flip(0).float().div_(255) for img in data['inputs']]
    targets = []
    if with_targets:
        for sample in data['data_samples']:
            gt = sample.gt_instances
            boxes = torch.as_tensor(gt.bboxes.tensor if hasattr(gt.bboxes, 'tensor')
                                    else gt.bboxes, dtype=torch.float32).reshape(-1, 4)
            targets.append(dict(
                boxes=boxes.to(device),
                labels=torch.as_tensor(gt.labels, dtype=torch.int64).to(device) + 1,
                masks=gt.masks.to_tensor(dtype=torch.uint8, device=device)))
    return images, targets
