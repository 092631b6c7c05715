"""AMP / bf16 settings and channels-last, on tiny modules."""
import torch
from mmengine.optim import OptimWrapper
from torch import nn

from pennfudan_bench.precision import (CPUBF16OptimWrapper, add_cpu_bf16_fp32_islands,
                                       amp_dtype_name, autocast, build_optim_wrapper,
                                       to_float, use_channels_last)


def test_precision_names_and_autocast():
    assert (amp_dtype_name('cpu', True), amp_dtype_name('cuda:0', True)) == ('bfloat16',
                                                                              'float16')
    assert amp_dtype_name('cpu', False) == 'float32'
    a = torch.ones(4, 4)
    with autocast('cpu', True):
        assert (a @ a).dtype == torch.bfloat16
    with autocast('cpu', False):
        assert (a @ a).dtype == torch.float32


def test_cpu_optim_wrappers_leave_the_config_alone():
    ow_cfg = dict(type='AmpOptimWrapper', loss_scale='dynamic',
                  optimizer=dict(type='AdamW', lr=1e-3))
    wrapper, precision = build_optim_wrapper(nn.Linear(2, 2), ow_cfg, 'cpu', amp=False)
    assert type(wrapper) is OptimWrapper and precision == 'float32'
    wrapper, precision = build_optim_wrapper(nn.Linear(2, 2), ow_cfg, 'cpu', amp=True)
    assert isinstance(wrapper, CPUBF16OptimWrapper) and precision == 'bfloat16'
    with wrapper.optim_context(nn.Linear(2, 2)):
        assert (torch.ones(2, 2) @ torch.ones(2, 2)).dtype == torch.bfloat16
    assert ow_cfg['type'] == 'AmpOptimWrapper'


class TwoStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.rpn_head = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 1)

    def forward(self, x):
        return self.rpn_head(self.backbone(x))


def test_fp32_islands_and_channels_last():
    out = to_float(dict(a=[torch.ones(1, dtype=torch.bfloat16)],
                        b=(torch.ones(1, dtype=torch.int64), )))
    assert out['a'][0].dtype == torch.float32 and out['b'][0].dtype == torch.int64
    model = TwoStage()
    add_cpu_bf16_fp32_islands(model)
    use_channels_last(model, model.backbone)
    assert model.backbone.weight.is_contiguous(memory_format=torch.channels_last)
    seen = []
    model.backbone.register_forward_pre_hook(lambda m, a: seen.append(a[0]))  # after ours
    with autocast('cpu', True):
        assert model(torch.rand(1, 3, 8, 8)).dtype == torch.float32   # the head's island
    assert seen[0].is_contiguous(memory_format=torch.channels_last)
