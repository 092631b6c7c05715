"""The torchvision Mask R-CNN reference of ``--reference torchvision``, and its timing.

A yardstick, not a product model: ``torchvision.models.detection.MaskRCNN``
(background + pedestrian) on the config's mmpretrain ViT (random init),
followed by a simple feature pyramid without learned deconvolutions: the
stride-16 ViT map bilinearly interpolated to strides 4 and 8, kept at 16 and
max-pooled to 32, then torchvision's ``FeaturePyramidNetwork``
(``BatchNorm2d``, ``LastLevelMaxPool``, 256 channels). Everything else is
torchvision's default. ``GeneralizedRCNNTransform`` gets ``min_size`` /
``max_size`` equal to the input size and ImageNet mean/std for 0-1 RGB images,
so images that already come at the input size are normalised and batched
(padded to a multiple of 32, as mmdet's data preprocessor does), not resized.
"""
from collections import OrderedDict
from typing import Any, Dict, List, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.config import Config
from torch import Tensor, nn
from torchvision.models.detection import MaskRCNN
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool

from ..errors import UserError
from .phases import InferBackend, Settings, measure_infer, measure_train
from .precision import use_channels_last
from .timing import memory, reset_cuda_peak, summarize, timed_map

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


def reference_backbone_args(cfg: Config) -> Dict[str, Any]:
    """The config's ViT settings (arch, patch size, drop path), for an equal backbone."""
    backbone = cfg.model.get('backbone', {})
    kind = getattr(backbone.get('type', ''), '__name__', str(backbone.get('type', '')))
    if not kind.endswith('VisionTransformer'):
        raise UserError(f'--reference torchvision needs a VisionTransformer backbone; '
                        f'the config has {kind or "none"}')
    return dict(arch=backbone.get('arch', 'base'), patch_size=backbone.get('patch_size', 16),
                drop_path_rate=backbone.get('drop_path_rate', 0.0))


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


def bench_reference(cfg: Config, s: Settings, input_size: Sequence[int],
                    pools: Dict[str, Any]) -> Dict[str, Any]:
    """Build the reference and time it, float32, on the batches ours was timed on."""
    backbone = reference_backbone_args(cfg)
    model = build_reference(input_size, **backbone).to(s.device)
    if s.channels_last:
        use_channels_last(model, model.backbone.vit)
    result = dict(name=NAME, backbone=backbone, input_size=list(input_size),
                  params_m=sum(p.numel() for p in model.parameters()) / 1e6)

    def convert(batches: Sequence[dict], with_targets: bool) -> Tuple[list, list]:
        return timed_map(lambda data: from_mmdet(data, s.device, with_targets), batches)

    if 'infer_batches' in pools:
        singles, _ = convert(pools['infer_singles'], False)
        batches, convert_s = convert(pools['infer_batches'], False)
        reset_cuda_peak(s.device)
        model.eval()
        backend = InferBackend(predict=lambda item: [len(out['boxes']) for out in model(item[0])],
                               precision='float32', context=torch.inference_mode)
        result['infer'] = dict(measure_infer(backend, singles, batches, s),
                               convert_s_per_batch=summarize(convert_s), **memory(s.device))
    if 'train_batches' in pools:
        batches, convert_s = convert(pools['train_batches'], True)
        opt_cfg = cfg.optim_wrapper.optimizer
        optimizer = torch.optim.AdamW(model.parameters(), lr=opt_cfg.lr,
                                      betas=tuple(opt_cfg.get('betas', (0.9, 0.999))),
                                      weight_decay=opt_cfg.get('weight_decay', 0.01))
        reset_cuda_peak(s.device)
        model.train()

        def step(item: Tuple[List[Tensor], List[dict]]) -> float:
            loss = sum(model(*item).values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            return loss.item()

        result['train'] = dict(measure_train(step, batches, s), precision='float32',
                               optimizer=f'AdamW(lr={opt_cfg.lr:g})',
                               convert_s_per_batch=summarize(convert_s), **memory(s.device))
    return result


def speedups(record: Dict[str, Any]) -> Dict[str, float]:
    """Reference time / our time (> 1: ours is faster), from the medians."""
    ref, out = record['reference'], {}
    if 'train' in record:
        out['train'] = (ref['train']['sec_per_iter']['median']
                        / record['train']['sec_per_iter']['median'])
    if 'infer' in record:
        out['infer_latency'] = (ref['infer']['latency_ms_batch1']['median']
                                / record['infer']['latency_ms_batch1']['median'])
        out['infer_throughput'] = record['infer']['img_per_s'] / ref['infer']['img_per_s']
    return out
