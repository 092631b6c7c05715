"""--profile: per-op and per-stage figures of a tiny two-stage module."""
import torch
from torch import nn

from pennfudan_vit.benchmark.profiling import format_profile, profile_calls


class TwoStage(nn.Module):

    def __init__(self):
        super().__init__()
        self.backbone = nn.Linear(8, 8)
        self.neck = nn.Linear(8, 4)

    def forward(self, x):
        return self.neck(self.backbone(x))


def test_profile_calls_labels_stages():
    model = TwoStage()
    prof = profile_calls(model, model, [torch.rand(2, 8)], 'cpu', iters=2)
    assert prof['iters'] == 2 and prof['wall_ms_per_iter'] > 0
    assert 0 < len(prof['top_cpu']) <= 15 and 'top_cuda' not in prof
    assert all(r['self_cpu_ms'] >= 0 and r['calls'] > 0 for r in prof['top_cpu'])
    assert not any(r['name'].startswith('stage:') for r in prof['top_cpu'])
    assert [s['stage'] for s in prof['stages_forward']] == ['backbone', 'neck']
    text = format_profile('infer profile', prof)
    assert 'infer profile: 2 profiled iterations' in text and 'forward time per stage' in text
    # the hooks are gone afterwards
    assert not model.backbone._forward_pre_hooks and not model.backbone._forward_hooks
