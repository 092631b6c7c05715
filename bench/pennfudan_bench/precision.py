"""The benchmark's precision and memory-format variants, on the plugin's mixed precision
(``pennfudan_vit.engine.mixed_precision``: what ``--amp`` means on each device)."""
import copy
from typing import Tuple

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn

from pennfudan_vit.engine.mixed_precision import (WRAPPER_DTYPES, amp_dtype, configure_amp,
                                                  configure_fp32)


def amp_dtype_name(device: str, amp: bool) -> str:
    """The autocast dtype of ``--amp`` on ``device``; ``float32`` without it or where the
    device has no native mixed precision."""
    return (amp_dtype(device) if amp else None) or 'float32'


def autocast(device: str, amp: bool) -> torch.autocast:
    """Autocast in :func:`amp_dtype_name`'s dtype, enabled when that is not fp32."""
    dtype = amp_dtype_name(device, amp)
    return torch.autocast(device.split(':')[0], getattr(torch, dtype),
                          enabled=dtype != 'float32')


def build_optim_wrapper(model: nn.Module, ow_cfg: dict, device: str,
                        amp: bool) -> Tuple[OptimWrapper, str]:
    """The wrapper of ``ow_cfg`` (left unchanged) and its precision: with ``amp`` as
    training's ``--amp`` sets it; without, plain on a CPU (mmengine's AMP needs CUDA)."""
    from mmengine.optim import build_optim_wrapper as build
    cfg = Config(dict(optim_wrapper=copy.deepcopy(ow_cfg)))
    ow = cfg.optim_wrapper
    if amp:
        configure_amp(cfg, device, loops=())
    elif not device.startswith('cuda'):
        configure_fp32(ow)
    return build(model, ow.to_dict()), WRAPPER_DTYPES.get(ow.type, 'float32')


def use_channels_last(model: nn.Module, image_input: nn.Module) -> None:
    """Channels-last weights, and channels-last images into ``image_input``."""
    model.to(memory_format=torch.channels_last)
    image_input.register_forward_pre_hook(
        lambda m, a: (a[0].contiguous(memory_format=torch.channels_last), *a[1:]))
