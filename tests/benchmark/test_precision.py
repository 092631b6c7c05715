"""AMP / bf16 settings and channels-last, on a tiny module."""
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn

from pennfudan_vit.benchmark.precision import (CPUBF16OptimWrapper, amp_dtype_name,
                                               autocast_context, build_optim_wrapper, to_float,
                                               use_channels_last)


class Tiny(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Conv2d(3, 4, 3)

    def forward(self, x):
        return self.backbone(x)


def test_precision_names_and_autocast():
    assert amp_dtype_name('cpu', True) == 'bfloat16'
    assert amp_dtype_name('cuda', True) == 'float16'
    assert amp_dtype_name('cpu', False) == 'float32'
    a = torch.ones(4, 4)
    with autocast_context('cpu', True)():
        assert (a @ a).dtype == torch.bfloat16
    with autocast_context('cpu', False)():
        assert (a @ a).dtype == torch.float32


def test_cpu_optim_wrappers():
    cfg = Config(dict(optim_wrapper=dict(type='AmpOptimWrapper', loss_scale='dynamic',
                                         optimizer=dict(type='AdamW', lr=1e-3))))
    wrapper, precision = build_optim_wrapper(nn.Linear(2, 2), cfg, 'cpu', amp=False)
    assert type(wrapper) is OptimWrapper and precision == 'float32'
    wrapper, precision = build_optim_wrapper(nn.Linear(2, 2), cfg, 'cpu', amp=True)
    assert isinstance(wrapper, CPUBF16OptimWrapper) and precision == 'bfloat16'
    a = torch.ones(2, 2)
    with wrapper.optim_context(nn.Linear(2, 2)):
        assert (a @ a).dtype == torch.bfloat16
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'  # the config is left alone


def test_to_float_and_channels_last():
    out = to_float(dict(a=[torch.ones(1, dtype=torch.bfloat16)],
                        b=(torch.ones(1, dtype=torch.int64), )))
    assert out['a'][0].dtype == torch.float32 and out['b'][0].dtype == torch.int64
    model = Tiny()
    use_channels_last(model, model.backbone)
    assert model.backbone.weight.is_contiguous(memory_format=torch.channels_last)
    seen = []
    model.backbone.register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # runs after ours
    model(torch.rand(1, 3, 8, 8))
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
