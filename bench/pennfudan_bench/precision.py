"""Precision and memory-format variants: AMP (fp16 on CUDA, bf16 on CPU), channels-last."""
import copy
from contextlib import contextmanager
from typing import Any, Iterator, Tuple

import torch
from mmengine.optim import OptimWrapper
from torch import nn


def amp_dtype_name(device: str, amp: bool) -> str:
    """The autocast dtype ``--amp`` means on ``device``: fp16 on CUDA, bf16 on CPU."""
    return ('float16' if device.startswith('cuda') else 'bfloat16') if amp else 'float32'


def autocast(device: str, amp: bool) -> torch.autocast:
    """Autocast in :func:`amp_dtype_name`'s dtype, enabled when ``amp``."""
    return torch.autocast(device.split(':')[0], getattr(torch, amp_dtype_name(device, True)),
                          enabled=amp)


class CPUBF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` with the forward under CPU bf16 autocast (the step stays fp32)."""

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield


def build_optim_wrapper(model: nn.Module, ow_cfg: dict, device: str,
                        amp: bool) -> Tuple[OptimWrapper, str]:
    """The wrapper of ``ow_cfg`` and its precision; ``amp``: AmpOptimWrapper on CUDA, else
    (mmengine's AMP needs CUDA) :class:`CPUBF16OptimWrapper`."""
    from mmengine.optim import build_optim_wrapper as build
    ow_cfg = copy.deepcopy(ow_cfg)
    if not device.startswith('cuda'):
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            ow_cfg.pop(key, None)
        ow_cfg['type'] = CPUBF16OptimWrapper if amp else 'OptimWrapper'
    elif amp:
        ow_cfg.update(type='AmpOptimWrapper', loss_scale=ow_cfg.get('loss_scale', 'dynamic'))
    return build(model, ow_cfg), amp_dtype_name(device, amp or ow_cfg['type'] == 'AmpOptimWrapper')


def to_float(obj: Any) -> Any:
    """Cast the low-precision floating tensors in a (nested) output to fp32."""
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float(o) for o in obj)
    return {k: to_float(v) for k, v in obj.items()} if isinstance(obj, dict) else obj


def add_cpu_bf16_fp32_islands(model: nn.Module) -> None:
    """Keep RoIAlign and box/mask post-processing in fp32 under CPU bf16 autocast: mmcv's
    CPU RoIAlign and NMS have no bf16 kernels and mmdet casts the RoIs to the feature
    dtype (bf16 boxes are 4 px coarse at 640 px). So RoI extractors get fp32 features and
    the heads' raw outputs become fp32; convolutions and matmuls stay bf16."""
    from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
    for name, module in model.named_modules():
        if isinstance(module, BaseRoIExtractor):
            module.register_forward_pre_hook(lambda m, a: (to_float(tuple(a[0])), *a[1:]))
        elif name in ('rpn_head', 'roi_head.bbox_head', 'roi_head.mask_head'):
            module.register_forward_hook(lambda m, a, out: to_float(out))


def use_channels_last(model: nn.Module, image_input: nn.Module) -> None:
    """Channels-last weights, and channels-last images into ``image_input``."""
    model.to(memory_format=torch.channels_last)
    image_input.register_forward_pre_hook(
        lambda m, a: (a[0].contiguous(memory_format=torch.channels_last), *a[1:]))
