"""--amp follows the hardware: CPU bf16 where native, fp32 with a note elsewhere."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper
from torch import nn

from pennfudan_vit import hardware
from pennfudan_vit.engine import mixed_precision as mp


@pytest.fixture
def cpu_units(monkeypatch):
    """Pretend the CPU has the given bf16 units."""
    def set_units(bf16):
        monkeypatch.setattr(mp, 'cpu_info', lambda: dict(model='test CPU', cpus=2, bf16=bf16,
                                                         int8=[]))
    return set_units


def test_cpu_info_reads_the_units_of_proc_cpuinfo(tmp_path, monkeypatch):
    fake = tmp_path / 'cpuinfo'
    fake.write_text('model name\t: Test CPU 9000\nflags\t\t: fpu avx2 avx512_bf16 avx512_vnni\n')
    real_open = open
    monkeypatch.setattr('builtins.open', lambda p, *a, **k: real_open(
        fake if p == '/proc/cpuinfo' else p, *a, **k))
    hardware.cpu_info.cache_clear()
    try:
        info = hardware.cpu_info()
        assert (info['model'], info['bf16'], info['int8']) == ('Test CPU 9000', ['avx512_bf16'],
                                                               ['avx512_vnni'])
        assert 'bf16 units: avx512_bf16, int8 units: avx512_vnni' in hardware.describe_cpu()
    finally:
        hardware.cpu_info.cache_clear()


def amp_config():
    return Config(dict(optim_wrapper=dict(type='OptimWrapper', loss_scale='dynamic',
                                          optimizer=dict(type='AdamW', lr=1e-3)),
                       val_cfg=dict(type='ValLoop'), custom_hooks=[]))


def test_amp_is_bf16_on_a_cpu_with_bf16_units(cpu_units):
    cpu_units(['amx_bf16'])
    cfg = amp_config()
    assert mp.configure_amp(cfg, 'cpu') == 'bfloat16'
    assert cfg.optim_wrapper.type == 'CPUBF16OptimWrapper' and 'loss_scale' not in cfg.optim_wrapper
    assert cfg.val_cfg.fp16 and cfg.custom_hooks[-1]['type'] == 'CPUBF16ModelHook'
    assert 'bf16 autocast' in mp.describe_precision(cfg)


def test_amp_is_fp32_without_native_units(cpu_units):
    cpu_units([])
    cfg = amp_config()
    assert mp.configure_amp(cfg, 'cpu') is None
    assert cfg.optim_wrapper.type == 'OptimWrapper' and 'fp16' not in cfg.val_cfg
    assert mp.describe_precision(cfg).startswith('precision: fp32')


def test_amp_on_cuda_is_mmengine_amp(cpu_units):
    cpu_units([])
    cfg = amp_config()
    assert mp.configure_amp(cfg, 'cuda:0') == 'float16'
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and not cfg.custom_hooks


def test_cpu_bf16_wrapper_runs_the_forward_in_bf16_and_steps_in_fp32(cpu_units):
    cpu_units(['amx_bf16'])
    model = nn.Sequential(nn.Conv2d(3, 4, 1), nn.Flatten(), nn.Linear(4, 4))
    wrapper = mp.CPUBF16OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    assert isinstance(wrapper, OptimWrapper)
    with wrapper.optim_context(model):
        out = model(torch.ones(2, 3, 1, 1))
    assert out.dtype == torch.bfloat16 and model._cpu_bf16   # adapted on first use
    wrapper.update_params(out.float().sum())
    assert model[0].weight.dtype == torch.float32


def test_cpu_bf16_wrapper_is_fp32_with_a_note_without_bf16_units(cpu_units, monkeypatch):
    cpu_units([])
    notes = []
    monkeypatch.setattr(mp, 'print_log', lambda msg, **kw: notes.append(msg))
    model = nn.Linear(4, 4)
    wrapper = mp.CPUBF16OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1))
    with wrapper.optim_context(model):
        assert model(torch.ones(2, 4)).dtype == torch.float32
    assert not getattr(model, '_cpu_bf16', False)
    assert len(notes) == 1 and 'no bf16 units, training in fp32' in notes[0]


def test_fused_adamw_moments_follow_the_weights_layout_across_a_resume(cpu_units):
    """A bf16 run's channels-last weights resumed with contiguous moments (and a bf16 run's
    moments resumed by an fp32 run) step as the uninterrupted run does."""
    cpu_units(['amx_bf16'])
    g = torch.Generator().manual_seed(0)
    grads = [torch.randn(8, 4, 3, 3, generator=g) for _ in range(3)]

    def run(layouts):
        weight = nn.Parameter(torch.ones(8, 4, 3, 3).contiguous(memory_format=layouts[0]))
        state = None
        for grad, layout in zip(grads, layouts):
            weight.data = weight.data.contiguous(memory_format=layout)
            wrapper = mp.CPUBF16OptimWrapper(torch.optim.AdamW([weight], lr=0.1, fused=True))
            if state is not None:
                wrapper.load_state_dict(state)
            weight.grad = grad.contiguous(memory_format=layout)
            wrapper.step()
            state = wrapper.state_dict()
            assert all(v.is_contiguous() for v in state['state'][0].values())
        return weight.detach()

    cl, contiguous = torch.channels_last, torch.contiguous_format
    reference = run([contiguous] * 3)
    for layouts in ([contiguous, cl, cl], [cl, cl, contiguous], [cl] * 3):
        assert torch.allclose(run(layouts), reference, rtol=0, atol=1e-6), layouts


class TwoStage(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone, self.rpn_head = nn.Conv2d(3, 4, 3), nn.Conv2d(4, 4, 1)
        from mmpretrain.models.utils import MultiheadAttention
        self.attn = MultiheadAttention(8, 2)

    def forward(self, x):
        return self.rpn_head(self.backbone(x))


def test_adapted_once_fp32_islands_channels_last_matmul_attention():
    out = mp.to_float(dict(a=[torch.ones(1, dtype=torch.bfloat16)],
                           b=(torch.ones(1, dtype=torch.int64), )))
    assert out['a'][0].dtype == torch.float32 and out['b'][0].dtype == torch.int64
    model = TwoStage()
    mp.adapt_to_cpu_bf16(model)
    mp.adapt_to_cpu_bf16(model)
    assert len(model.rpn_head._forward_hooks) == 1
    assert model.backbone.weight.is_contiguous(memory_format=torch.channels_last)
    assert model.attn.scaled_dot_product_attention is mp.matmul_attention
    with torch.autocast('cpu', dtype=torch.bfloat16):
        assert model.backbone(torch.rand(1, 3, 8, 8)).dtype == torch.bfloat16
        assert model(torch.rand(1, 3, 8, 8)).dtype == torch.float32   # the head's island


def test_matmul_attention_only_where_autograd_records_cpu_bf16(monkeypatch):
    import torch.nn.functional as F
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, 50, 16, generator=g) for _ in range(3))
    ref = F.scaled_dot_product_attention(q, k, v)
    calls = []
    monkeypatch.setattr(F, 'scaled_dot_product_attention',
                        lambda *a, **kw: calls.append(a[0].dtype) or ref)
    qb, kb, vb = (t.bfloat16().requires_grad_(True) for t in (q, k, v))
    out = mp.matmul_attention(qb, kb, vb)
    out.float().sum().backward()
    assert not calls and out.dtype == qb.grad.dtype == torch.bfloat16
    assert ((out.float() - ref).norm() / ref.norm()) < 1e-2   # bf16 products' rounding
    with torch.no_grad():   # inference: the flash kernel, fastest there
        mp.matmul_attention(qb, kb, vb)
    mp.matmul_attention(q, k, v)   # fp32
    assert calls == [torch.bfloat16, torch.float32]
