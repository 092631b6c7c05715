"""The time-budget policy: lr by elapsed time, snapshots at marks with the clock paused
while writing (loadable by the plugin's one weight loader), the hook's refusal of a
second lr schedule, and its registration in mmdet's HOOKS."""
import math
from types import SimpleNamespace

import pytest
import torch

from pennfudan_bench import budget
from pennfudan_bench.budget import BudgetReached, TimeBudgetHook, budget_lr_factor
from pennfudan_vit.detector import load_weights


def test_lr_factor_warms_up_then_decays_to_eta_min():
    assert budget_lr_factor(0, 100, 10) == pytest.approx(0.01)
    assert budget_lr_factor(5, 100, 10) == pytest.approx(0.505 * (0.05 + 0.95 * 0.5 * (
        1 + math.cos(math.pi * 0.05))))
    values = [budget_lr_factor(t, 100, 10) for t in range(10, 101, 10)]
    assert values == sorted(values, reverse=True) and 0.97 < values[0] < 1.0
    assert budget_lr_factor(100, 100, 10) == budget_lr_factor(150, 100, 10) == pytest.approx(0.05)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def runner(model, groups):
    return SimpleNamespace(model=model, epoch=0, param_schedulers=[],
                           optim_wrapper=SimpleNamespace(param_groups=groups))


def test_snapshots_at_marks_exclude_the_time_spent_writing(tmp_path, monkeypatch):
    clock, write = FakeClock(), budget.atomic_write
    monkeypatch.setattr(budget.time, 'perf_counter', clock)

    def slow_write(path, fn):   # a snapshot write that takes 7 s of wall clock
        clock.now += 7
        return write(path, fn)

    monkeypatch.setattr(budget, 'atomic_write', slow_write)
    hook, groups = TimeBudgetHook([10, 20], str(tmp_path), warmup_s=0), [dict(lr=1.0)]
    fake = runner(torch.nn.Linear(2, 2), groups)
    hook.before_train(fake)
    steps = 0
    with pytest.raises(BudgetReached):
        for steps in range(1, 9):
            hook.before_train_iter(fake, steps)
            clock.now += 4                      # one 4-second step of 2 images
            hook.after_train_iter(fake, steps, dict(inputs=[0, 0]))
    # steps end at 4, 8, 12 (snapshot, +7 s paused), 16, 20 (snapshot): 5 steps
    assert steps == 5 and [s['mark_s'] for s in hook.snapshots] == [10, 20]
    assert [(s['iters'], s['images']) for s in hook.snapshots] == [(3, 6), (5, 10)]
    assert hook.snapshots[1]['elapsed_s'] == pytest.approx(20)
    assert groups[0]['budget_base_lr'] == 1.0
    assert groups[0]['lr'] == pytest.approx(budget_lr_factor(16, 20, 0))
    loaded = load_weights(torch.nn.Linear(2, 2), hook.snapshots[0]['path'])
    assert loaded['meta']['iters'] == 3 and hook.snapshots[0]['path'].endswith('00010s.pth')


def test_a_slow_step_past_two_marks_takes_both_snapshots(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(budget.time, 'perf_counter', clock)
    hook, fake = TimeBudgetHook([5, 10, 15], str(tmp_path)), runner(torch.nn.Linear(1, 1), [])
    hook.before_train_iter(fake, 0)
    clock.now += 11
    hook.after_train_iter(fake, 0, dict(inputs=[0]))
    assert [s['mark_s'] for s in hook.snapshots] == [5, 10]


def test_refusals_and_registration(tmp_path):
    from mmdet.registry import HOOKS
    with pytest.raises(ValueError, match='positive'):
        TimeBudgetHook([0, 10], str(tmp_path))
    with pytest.raises(ValueError, match='param_scheduler=None'):
        TimeBudgetHook([10], str(tmp_path)).before_train(SimpleNamespace(
            param_schedulers=[object()]))
    hook = HOOKS.build(dict(type='TimeBudgetHook', marks=[3], out_dir=str(tmp_path)))
    assert isinstance(hook, TimeBudgetHook)
