"""The time-budget policy: lr by elapsed time, snapshots at marks with the clock paused
while writing, and the hook's refusal of a second lr schedule."""
import pytest
import torch

from pennfudan_vit.engine import BudgetRun, TimeBudgetHook, budget_lr_factor
from pennfudan_vit.engine import time_budget


def test_lr_factor_warms_up_then_decays_to_eta_min():
    assert budget_lr_factor(0, 100, 10) == pytest.approx(0.01)
    assert budget_lr_factor(5, 100, 10) == pytest.approx(0.505 * (0.05 + 0.95 * 0.5 * (
        1 + torch.cos(torch.tensor(torch.pi * 0.05)).item())))
    assert budget_lr_factor(10, 100, 10) < 1.0 and budget_lr_factor(10, 100, 10) > 0.97
    values = [budget_lr_factor(t, 100, 10) for t in range(10, 101, 10)]
    assert values == sorted(values, reverse=True)
    assert budget_lr_factor(100, 100, 10) == pytest.approx(0.05)
    assert budget_lr_factor(150, 100, 10) == pytest.approx(0.05)


class FakeClock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_snapshots_at_marks_exclude_the_time_spent_writing(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(time_budget.time, 'perf_counter', clock)
    saving = []

    def slow_write(path, write):  # a snapshot write that takes 7 s of wall clock
        saving.append(path)
        clock.now += 7
        return path

    monkeypatch.setattr(time_budget, 'atomic_write', slow_write)
    model = torch.nn.Linear(2, 2)
    run = BudgetRun([10, 20], str(tmp_path), warmup_s=0)
    run.begin()
    groups = [dict(lr=1.0)]
    done = []
    for _ in range(8):
        run.set_lr(groups)
        clock.now += 4                      # one 4-second step of 2 images
        done.append(run.after_step(model, 2, epoch=0))
        if done[-1]:
            break
    # steps end at 4, 8, 12 (snapshot, +7 s paused), 16, 20 (snapshot): 5 steps
    assert done == [False, False, False, False, True]
    assert [s['mark_s'] for s in run.snapshots] == [10, 20]
    assert [s['iters'] for s in run.snapshots] == [3, 5]
    assert [s['images'] for s in run.snapshots] == [6, 10]
    assert run.snapshots[1]['elapsed_s'] == pytest.approx(20)
    assert [p.endswith(n) for p, n in zip(saving, ('snapshot_00010s.pth',
                                                   'snapshot_00020s.pth'))] == [True, True]
    assert groups[0]['budget_base_lr'] == 1.0
    assert groups[0]['lr'] == pytest.approx(budget_lr_factor(16, 20, 0))


def test_a_slow_step_past_two_marks_takes_both_snapshots(tmp_path, monkeypatch):
    clock = FakeClock()
    monkeypatch.setattr(time_budget.time, 'perf_counter', clock)
    run = BudgetRun([5, 10, 15], str(tmp_path))
    run.begin()
    clock.now += 11
    assert not run.after_step(torch.nn.Linear(1, 1), 1, epoch=0)
    assert [s['mark_s'] for s in run.snapshots] == [5, 10]
    assert (tmp_path / 'snapshot_00010s.pth').is_file()
    saved = torch.load(tmp_path / 'snapshot_00005s.pth', weights_only=True)
    assert set(saved['state_dict']) == {'weight', 'bias'} and saved['meta']['iters'] == 1


def test_marks_must_be_positive(tmp_path):
    with pytest.raises(ValueError, match='positive'):
        BudgetRun([0, 10], str(tmp_path))


def test_hook_refuses_a_config_that_keeps_its_lr_schedulers(tmp_path):
    class Runner:
        param_schedulers = [object()]
    with pytest.raises(ValueError, match='param_scheduler=None'):
        TimeBudgetHook([10], str(tmp_path)).before_train(Runner())
