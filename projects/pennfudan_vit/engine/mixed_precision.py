"""Mixed precision that follows the hardware. ``--amp`` means the fastest mixed precision
the device runs natively: fp16 autocast with loss scaling on CUDA (mmengine's
AmpOptimWrapper), bf16 autocast on a CPU with bf16 units (AMX-BF16, AVX512-BF16), and fp32
with a one-line note elsewhere (emulated bf16 is slower than fp32)."""
import logging
from contextlib import contextmanager
from typing import Any, Iterator, Optional

import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper
from mmengine.registry import HOOKS, OPTIM_WRAPPERS
from torch import Tensor, nn

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
    """``OptimWrapper`` whose forward runs under bf16 autocast where the CPU has bf16 units,
    on a model :func:`adapt_to_cpu_bf16` adapted (a no-op when a hook already did). The
    weights, gradients and the step stay fp32, and bf16 has fp32's exponent range, so no
    loss scaling. Without bf16 units, or for a model off the CPU, it is a plain fp32
    ``OptimWrapper`` with a note in the log: emulated bf16 is slower than fp32."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.native = amp_dtype('cpu') == 'bfloat16'
        if not self.native:
            print_log('CPUBF16OptimWrapper: this CPU has no bf16 units, training in fp32',
                      logger='current', level=logging.WARNING)

    @contextmanager
    def optim_context(self, model: nn.Module) -> Iterator[None]:
        on_cpu = next(model.parameters()).device.type == 'cpu'
        if self.native and on_cpu:
            adapt_to_cpu_bf16(model)
        with super().optim_context(model), torch.autocast(
                'cpu', dtype=torch.bfloat16, enabled=self.native and on_cpu):
            yield

    def step(self, **kwargs) -> None:
        # torch's fused CPU AdamW indexes parameter, gradient and moments by the
        # parameter's strides, so moments resumed contiguous for a channels-last weight
        # would be silently misread
        for group in self.optimizer.param_groups:
            for p in group['params']:
                for key, value in self.optimizer.state.get(p, {}).items():
                    if value.shape == p.shape and value.stride() != p.stride():
                        self.optimizer.state[p][key] = torch.empty_like(p).copy_(value)
        super().step(**kwargs)

    def state_dict(self) -> dict:
        """Moments saved contiguous, the layout a run without bf16 adaptation expects."""
        state = super().state_dict()
        state['state'] = {i: {k: v.contiguous() if torch.is_tensor(v) else v
                              for k, v in s.items()} for i, s in state['state'].items()}
        return state


def to_float(obj: Any) -> Any:
    """Cast the low-precision floating tensors in a (nested) output to fp32."""
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(to_float(o) for o in obj)
    return {k: to_float(v) for k, v in obj.items()} if isinstance(obj, dict) else obj


def matmul_attention(q: Tensor, k: Tensor, v: Tensor, attn_mask: Optional[Tensor] = None,
                     dropout_p: float = 0.0, **kwargs: Any) -> Tensor:
    """``F.scaled_dot_product_attention``, except while autograd records bf16 on a CPU: the
    CPU flash kernel's bf16 backward is slower than its fp32 one, so there attention runs
    as two bf16 matrix products around a softmax (whose kernel accumulates in fp32), and
    so does its backward."""
    if (q.dtype != torch.bfloat16 or q.device.type != 'cpu' or not torch.is_grad_enabled()
            or attn_mask is not None or kwargs):
        return F.scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, **kwargs)
    weights = ((q * q.shape[-1]**-0.5) @ k.transpose(-2, -1)).softmax(-1)
    return torch.dropout(weights, dropout_p, True) @ v


def adapt_to_cpu_bf16(model: nn.Module) -> None:
    """What CPU bf16 autocast needs beyond the autocast itself. In fp32 each change is a
    no-op or a memory layout, so an adapted model still runs fp32; adapting twice is a no-op.

    - fp32 islands: RoIAlign and box/mask post-processing stay fp32. The CPU RoIAlign and
      NMS kernels have no bf16 versions, and mmdet casts the RoIs to the feature dtype (bf16
      box corners are several pixels coarse at these sizes). So RoI extractors get fp32
      features (contiguous, the layout the kernels read) and the heads' raw outputs become
      fp32; convolutions and matmuls stay bf16.
    - attention that calls ``F.scaled_dot_product_attention`` (mmpretrain's) calls
      :func:`matmul_attention` instead.
    - convolution weights go channels-last, the layout oneDNN's bf16 kernels run fastest
      in (in place: an optimizer built on the model keeps its parameters)."""
    from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
    model = model.module if is_model_wrapper(model) else model
    if getattr(model, '_cpu_bf16', False):
        return
    model._cpu_bf16 = True
    model.to(memory_format=torch.channels_last)
    for name, module in model.named_modules():
        if isinstance(module, BaseRoIExtractor):
            module.register_forward_pre_hook(lambda m, a: (tuple(
                f.to(torch.float32, memory_format=torch.contiguous_format) for f in a[0]),
                *a[1:]))
        elif name in ('rpn_head', 'roi_head.bbox_head', 'roi_head.mask_head'):
            module.register_forward_hook(lambda m, a, out: to_float(out))
        elif getattr(module, 'scaled_dot_product_attention', None) is \
                F.scaled_dot_product_attention:
            module.scaled_dot_product_attention = matmul_attention


@HOOKS.register_module()
class CPUBF16ModelHook(Hook):
    """:func:`adapt_to_cpu_bf16` on the runner's model before anything runs."""

    def before_run(self, runner) -> None:
        adapt_to_cpu_bf16(runner.model)


def configure_fp32(optim_wrapper: dict) -> None:
    """Turn a (mixed-precision) ``optim_wrapper`` config into mmengine's fp32 one."""
    for key in ('loss_scale', 'dtype'):
        optim_wrapper.pop(key, None)
    optim_wrapper['type'] = 'OptimWrapper'


def configure_amp(cfg: Config, device: str, loops=('val_cfg', )) -> Optional[str]:
    """Switch ``cfg`` to :func:`amp_dtype`'s mixed precision on ``device`` for training (its
    ``optim_wrapper``) and the evaluation ``loops``; return that dtype (None: fp32)."""
    dtype = amp_dtype(device)
    ow = cfg.get('optim_wrapper')
    if ow is not None:
        if device.startswith('cuda'):
            ow.update(type='AmpOptimWrapper', loss_scale=ow.get('loss_scale', 'dynamic'))
        else:
            configure_fp32(ow)   # a CPU has no fp16 loss scaling
            if dtype:
                ow.type = 'CPUBF16OptimWrapper'
    if dtype is None:
        return None
    for loop in loops:
        if cfg.get(loop) is not None:
            cfg[loop]['fp16'] = True   # mmengine's loop autocast: bf16 on a CPU
    if not device.startswith('cuda'):
        cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(type='CPUBF16ModelHook')]
    return dtype


def describe_precision(cfg: Config) -> str:
    """One line for the training log: the precision of ``cfg``'s training and the CPU."""
    from ..hardware import describe_cpu
    dtype = WRAPPER_DTYPES.get((cfg.get('optim_wrapper') or {}).get('type'))
    what = dict(float16='fp16 autocast, dynamic loss scaling (CUDA)',
                bfloat16='bf16 autocast, fp32 weights').get(dtype, 'fp32')
    return f'precision: {what}; CPU: {describe_cpu()}'
