"""Precision and memory-format variants: AMP / CPU bf16 autocast, channels-last."""
import copy
from contextlib import contextmanager, nullcontext
from typing import Any, Callable, ContextManager, Iterator, Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn


def amp_dtype_name(device: str, amp: bool) -> str:
    """The autocast dtype ``--amp`` means on ``device``: fp16 on CUDA, bf16 on CPU."""
    return ('float16' if device == 'cuda' else 'bfloat16') if amp else 'float32'


def autocast_context(device: str, amp: bool) -> Callable[[], ContextManager]:
    """A context factory: autocast in :func:`amp_dtype_name`'s dtype when ``amp``."""
    if not amp:
        return nullcontext
    dtype = getattr(torch, amp_dtype_name(device, amp))
    return lambda: torch.autocast(device, dtype=dtype)


class CPUBF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` whose forward pass runs under CPU bf16 autocast."""

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield


def build_optim_wrapper(model: nn.Module, cfg: Config, device: str,
                        amp: bool) -> Tuple[OptimWrapper, str]:
    """The config's optimizer wrapper, made to run on ``device``; and its precision.

    CUDA keeps the config's wrapper (``amp`` forces ``AmpOptimWrapper``).
    mmengine's ``AmpOptimWrapper`` needs CUDA, so CPU uses ``OptimWrapper``, or
    with ``amp`` :class:`CPUBF16OptimWrapper` (backward follows the forward
    dtypes; the step stays fp32).
    """
    from mmengine.optim import build_optim_wrapper as build
    ow_cfg = copy.deepcopy(cfg.optim_wrapper)
    if device == 'cuda':
        if amp:
            ow_cfg['type'] = 'AmpOptimWrapper'
            ow_cfg.setdefault('loss_scale', 'dynamic')
        is_amp = ow_cfg.get('type') == 'AmpOptimWrapper'
        precision = str(ow_cfg.get('dtype') or 'float16') if is_amp else 'float32'
    else:
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            ow_cfg.pop(key, None)
        ow_cfg['type'] = CPUBF16OptimWrapper if amp else 'OptimWrapper'
        precision = amp_dtype_name(device, amp)
    return build(model, ow_cfg), precision


def to_float(obj: Any) -> Any:
    """Cast the low-precision floating tensors in a (nested) output to fp32."""
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float(o) for o in obj)
    if isinstance(obj, dict):
        return {k: to_float(v) for k, v in obj.items()}
    return obj


def add_cpu_bf16_fp32_islands(model: nn.Module) -> None:
    """Keep RoIAlign and box/mask post-processing in fp32 under CPU bf16 autocast.

    mmcv's CPU RoIAlign and NMS have no bf16 kernels, and mmdet casts the RoIs
    to the feature dtype (bf16 boxes are 4 px coarse at 640 px). So the RoI
    extractors get fp32 features and the heads' raw outputs become fp32, as
    losses and decoding want; the convolutions and matmuls stay bf16.
    """
    from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
    for module in model.modules():
        if isinstance(module, BaseRoIExtractor):
            module.register_forward_pre_hook(
                lambda m, args: (to_float(tuple(args[0])), ) + tuple(args[1:]))
    for path in ('rpn_head', 'roi_head.bbox_head', 'roi_head.mask_head'):
        try:
            head = model.get_submodule(path)
        except AttributeError:
            continue
        head.register_forward_hook(lambda m, args, out: to_float(out))


def use_channels_last(model: nn.Module, image_input: nn.Module) -> None:
    """Channels-last weights, and channels-last images into ``image_input``."""
    model.to(memory_format=torch.channels_last)
    image_input.register_forward_pre_hook(
        lambda m, a: (a[0].contiguous(memory_format=torch.channels_last), ) + a[1:])
