"""Mixed precision that follows the hardware. ``--amp`` means the fastest mixed precision
the device runs natively: fp16 autocast with loss scaling on CUDA (mmengine's
AmpOptimWrapper), bf16 autocast on a CPU with bf16 units (AMX-BF16, AVX512-BF16), and fp32
with a one-line note elsewhere (emulated bf16 is slower than fp32)."""
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS
from torch import nn

from ..hardware import cpu_info


# the autocast dtype each mixed-precision optim wrapper trains in (others: float32)
WRAPPER_DTYPES = dict(AmpOptimWrapper='float16', CPUBF16OptimWrapper='bfloat16')


def amp_dtype(device: str) -> Optional[str]:
    """The autocast dtype ``--amp`` means on ``device``; None where nothing is native."""
    if device.startswith('cuda'):
        return 'float16'
    return 'bfloat16' if cpu_info()['bf16'] else None


def loop_dtype(cfg: Config, loop: str, device: str) -> str:
    """The dtype ``cfg``'s ``loop`` (e.g. ``test_cfg``) runs in on ``device``: the native
    one where :func:`configure_amp` turned its autocast on, else float32."""
    return ((cfg.get(loop) or {}).get('fp16') and amp_dtype(device)) or 'float32'


@OPTIM_WRAPPERS.register_module()
class CPUBF16OptimWrapper(OptimWrapper):
    """``OptimWrapper`` with the forward under CPU bf16 autocast. The weights, gradients and
    the step stay fp32, and bf16 has fp32's exponent range, so no loss scaling."""

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
            yield


def to_float(obj: Any) -> Any:
    """Cast the low-precision floating tensors in a (nested) output to fp32."""
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float(o) for o in obj)
    return {k: to_float(v) for k, v in obj.items()} if isinstance(obj, dict) else obj


def add_fp32_islands(model: nn.Module) -> None:
    """Keep RoIAlign and box/mask post-processing in fp32 under CPU bf16 autocast: mmcv's
    CPU RoIAlign and NMS have no bf16 kernels, and mmdet casts the RoIs to the feature
    dtype (bf16 box corners are several pixels coarse at these sizes). So RoI extractors
    get fp32 features and the heads' raw outputs become fp32; convolutions and matmuls
    stay bf16. Adding them twice is a no-op."""
    from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
    model = model.module if is_model_wrapper(model) else model
    if getattr(model, '_fp32_islands', False):
        return
    model._fp32_islands = True
    for name, module in model.named_modules():
        if isinstance(module, BaseRoIExtractor):
            module.register_forward_pre_hook(lambda m, a: (to_float(tuple(a[0])), *a[1:]))
        elif name in ('rpn_head', 'roi_head.bbox_head', 'roi_head.mask_head'):
            module.register_forward_hook(lambda m, a, out: to_float(out))


@HOOKS.register_module()
class FP32IslandsHook(Hook):
    """:func:`add_fp32_islands` on the runner's model before anything runs."""

    def before_run(self, runner) -> None:
        add_fp32_islands(runner.model)


def configure_amp(cfg: Config, device: str, loops=('val_cfg', )) -> Optional[str]:
    """Switch ``cfg`` to :func:`amp_dtype`'s mixed precision on ``device`` for training (its
    ``optim_wrapper``) and the evaluation ``loops``; return that dtype (None: fp32)."""
    dtype = amp_dtype(device)
    ow = cfg.get('optim_wrapper')
    if ow is not None:
        if device.startswith('cuda'):
            ow.update(type='AmpOptimWrapper', loss_scale=ow.get('loss_scale', 'dynamic'))
        else:
            for key in ('loss_scale', 'dtype'):
                ow.pop(key, None)
            ow.type = 'CPUBF16OptimWrapper' if dtype else 'OptimWrapper'
    if dtype is None:
        return None
    for loop in loops:
        if cfg.get(loop) is not None:
            cfg[loop]['fp16'] = True   # mmengine's loop autocast: bf16 on a CPU
    if not device.startswith('cuda'):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='FP32IslandsHook')]
    return dtype


def describe_precision(cfg: Config) -> str:
    """One line for the training log: the precision of ``cfg``'s training and the CPU."""
    from ..hardware import describe_cpu
    dtype = WRAPPER_DTYPES.get((cfg.get('optim_wrapper') or {}).get('type'))
    what = dict(float16='fp16 autocast, dynamic loss scaling (CUDA)',
                bfloat16='bf16 autocast, fp32 weights').get(dtype, 'fp32')
    return f'precision: {what}; CPU: {describe_cpu()}'
