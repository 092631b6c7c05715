"""The benchmark's precision variants and channels-last, on tiny modules."""
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from pennfudan_bench import precision
from pennfudan_vit.engine.mixed_precision import CPUBF16OptimWrapper


def test_precision_names_and_autocast(monkeypatch):
    monkeypatch.setattr(precision, 'amp_dtype', lambda device: 'bfloat16')
    assert precision.amp_dtype_name('cpu', True) == 'bfloat16'
    assert precision.amp_dtype_name('cpu', False) == 'float32'
    a = torch.ones(4, 4)
    with precision.autocast('cpu', True):
        assert (a @ a).dtype == torch.bfloat16
    monkeypatch.setattr(precision, 'amp_dtype', lambda device: None)   # no bf16 units
    with precision.autocast('cpu', True):
        assert (a @ a).dtype == torch.float32


def test_cpu_optim_wrappers_leave_the_config_alone(monkeypatch):
    monkeypatch.setattr('pennfudan_vit.engine.mixed_precision.cpu_info',
                        lambda: dict(model='x', cpus=2, bf16=['amx_bf16'], int8=[]))
    ow_cfg = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                  optimizer=dict(type='AdamW', lr=1e-3))
    wrapper, dtype = precision.build_optim_wrapper(nn.Linear(2, 2), ow_cfg, 'cpu', amp=False)
    assert type(wrapper) is OptimWrapper and dtype == 'float32'
    wrapper, dtype = precision.build_optim_wrapper(nn.Linear(2, 2), ow_cfg, 'cpu', amp=True)
    assert isinstance(wrapper, CPUBF16OptimWrapper) and dtype == 'bfloat16'
    assert ow_cfg['type'] == 'AmpOptimWrapper'


def test_channels_last():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 1))
    precision.use_channels_last(model, model[0])
    assert model[0].weight.is_contiguous(memory_format=torch.channels_last)
    seen = []
    model[0].register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # after ours
    model(torch.rand(1, 3, 8, 8))
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
