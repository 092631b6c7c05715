"""The torchvision yardstick ("the reference"): ``MaskRCNN`` on the config's ViT with a
simple pyramid and torchvision's FPN, random init (docs/benchmarks.md); images that come
at its input size are normalised and padded, not resized."""
from collections import OrderedDict
from typing import Any, Dict, List, Optional, Sequence

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel
from mmpretrain.models import VisionTransformer
from torch import Tensor, nn
from torchvision.models.detection import MaskRCNN
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

from pennfudan_vit.config import pipeline_size
from pennfudan_vit.errors import UserError

NAME = 'torchvision_maskrcnn_vit_simplefpn'


class ViTSimpleFPNBackbone(nn.Module):
    """mmpretrain ViT -> stride 4/8/16/32 maps -> torchvision FPN (+ max-pool level)."""

    def __init__(self, vit: nn.Module, embed_dims: int, out_channels: int = 256) -> None:
        super().__init__()
        self.vit, self.out_channels = vit, out_channels   # read by torchvision's MaskRCNN
        self.fpn = FeaturePyramidNetwork([embed_dims] * 4, out_channels, LastLevelMaxPool(),
                                         norm_layer=nn.BatchNorm2d)

    def forward(self, images: Tensor) -> Dict[str, Tensor]:
        x = self.vit(images)[-1]           # (B, C, H/16, W/16)
        levels = [F.interpolate(x, scale_factor=s, mode='bilinear') for s in (4, 2)]
        levels += [x, F.max_pool2d(x, kernel_size=2, stride=2)]
        return self.fpn(OrderedDict((str(i), f) for i, f in enumerate(levels)))


def baseline_backbone(cfg: Config) -> Dict[str, Any]:
    """The config's ViT settings (arch, patch size, drop path), for an equal backbone."""
    backbone = cfg.model.get('backbone', {})
    kind = getattr(backbone.get('type', ''), '__name__', str(backbone.get('type', '')))
    if not kind.endswith('VisionTransformer'):
        raise UserError(f'the torchvision reference needs a VisionTransformer backbone; '
                        f'the config has {kind or "none"}')
    return dict(arch=backbone.get('arch', 'base'), patch_size=backbone.get('patch_size', 16),
                drop_path_rate=backbone.get('drop_path_rate', 0.0))


def build_baseline(cfg: Config, input_size: Optional[Sequence[int]] = None) -> nn.Module:
    """The yardstick with ``cfg``'s ViT at ``input_size`` (default: the train pipeline's)."""
    h, w = input_size or pipeline_size(cfg, 'train_dataloader')
    vit = VisionTransformer(img_size=h if h == w else (h, w), out_type='featmap',
                            with_cls_token=True, **baseline_backbone(cfg))
    vit.init_weights()
    return MaskRCNN(ViTSimpleFPNBackbone(vit, vit.embed_dims), num_classes=2,
                    min_size=min(h, w), max_size=max(h, w),
                    image_mean=[0.485, 0.456, 0.406], image_std=[0.229, 0.224, 0.225])


class BaselineDetector(BaseModel):
    """The yardstick as an mmengine model (trained and timed as ours): losses, or the
    detections per image, of a collated mmdet batch; ``net`` is the torchvision model."""

    def __init__(self, cfg: Config, input_size: Optional[Sequence[int]] = None) -> None:
        super().__init__()
        self.net = build_baseline(cfg, input_size)

    def forward(self, inputs: List[Tensor], data_samples: list, mode: str = 'loss') -> Any:
        images = [img.flip(0).float() / 255 for img in inputs]   # BGR uint8 -> RGB 0-1
        if mode != 'loss':
            return self.net(images)
        gts = [s.gt_instances for s in data_samples]   # label 1: mmdet's class 0
        return self.net(images, [dict(boxes=getattr(gt.bboxes, 'tensor', gt.bboxes).float(),
                                      labels=gt.labels.long() + 1, masks=gt.masks.to_tensor(
                                          torch.uint8, images[0].device)) for gt in gts])


def plain_optim_wrapper(cfg: Config) -> Dict[str, Any]:
    """The config's optimizer and clipping, without our layer decay."""
    return dict(type='OptimWrapper', optimizer=cfg.optim_wrapper.optimizer,
                clip_grad=cfg.optim_wrapper.get('clip_grad'))


def speedups(record: Dict[str, Any], ref: Dict[str, Any]) -> Dict[str, float]:
    """``ref``'s time / ``record``'s time (> 1: ``record`` is faster), from the medians."""
    out: Dict[str, float] = {}
    if 'train' in record:
        out['train'] = (ref['train']['sec_per_iter']['median']
                        / record['train']['sec_per_iter']['median'])
    if 'infer' in record:
        out['infer_latency'] = (ref['infer']['latency_ms_batch1']['median']
                                / record['infer']['latency_ms_batch1']['median'])
        out['infer_throughput'] = record['infer']['img_per_s'] / ref['infer']['img_per_s']
    return out
