"""Training for a wall-clock budget: learning rate by elapsed time, weight snapshots at marks.

The time-to-accuracy benchmark trains our config (through this hook) and the
torchvision reference (through :class:`BudgetRun` directly) under one policy:
linear warm-up over the first seconds, cosine decay to the end of the budget,
weights saved at each time mark. A faster step therefore buys more updates under
the same schedule, which is what a user with a time budget gets.
"""
import math
import os
import os.path as osp
import time
from typing import Dict, List, Optional, Sequence

import torch
from mmengine.hooks import Hook
from mmdet.registry import HOOKS

from ..fileio import atomic_write


class BudgetReached(Exception):
    """The last snapshot is written: the budget is spent."""


def budget_lr_factor(elapsed: float, budget: float, warmup_s: float,
                     start_factor: float = 0.01, eta_min_ratio: float = 0.05) -> float:
    """Multiplier of the base lr after ``elapsed`` of ``budget`` seconds."""
    warm = 1.0 if elapsed >= warmup_s else start_factor + (1 - start_factor) * elapsed / warmup_s
    t = min(max(elapsed / budget, 0.0), 1.0)
    return warm * (eta_min_ratio + (1 - eta_min_ratio) * 0.5 * (1 + math.cos(math.pi * t)))


def snapshot_name(mark: float) -> str:
    """File name of the snapshot taken at ``mark`` seconds."""
    return f'snapshot_{int(round(mark)):05d}s.pth'


class BudgetRun:
    """Clock (paused while snapshots are written), lr policy and snapshots of one run."""

    def __init__(self, marks: Sequence[float], out_dir: str, warmup_s: float = 60.0,
                 start_factor: float = 0.01, eta_min_ratio: float = 0.05) -> None:
        self.marks = sorted(float(m) for m in marks)
        if not self.marks or self.marks[0] <= 0:
            raise ValueError(f'time marks must be positive seconds, got {list(marks)}')
        self.budget, self.out_dir, self.warmup_s = self.marks[-1], out_dir, warmup_s
        self.start_factor, self.eta_min_ratio = start_factor, eta_min_ratio
        self.start: Optional[float] = None
        self.paused, self.images, self.iters = 0.0, 0, 0
        self.snapshots: List[Dict] = []

    def begin(self) -> None:
        os.makedirs(self.out_dir, exist_ok=True)
        self.start = time.perf_counter()

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.paused

    @property
    def done(self) -> bool:
        return len(self.snapshots) == len(self.marks)

    def set_lr(self, param_groups: List[dict]) -> float:
        """Set every group's lr from its base lr (read on the first call); return the factor."""
        factor = budget_lr_factor(self.elapsed, self.budget, self.warmup_s,
                                  self.start_factor, self.eta_min_ratio)
        for group in param_groups:
            group.setdefault('budget_base_lr', group['lr'])
            group['lr'] = group['budget_base_lr'] * factor
        return factor

    def after_step(self, model: torch.nn.Module, images: int, epoch: int) -> bool:
        """Count the step; save the snapshots whose mark has passed; True once all are saved."""
        self.images += images
        self.iters += 1
        while not self.done and self.elapsed >= self.marks[len(self.snapshots)]:
            paused_at = time.perf_counter()
            mark = self.marks[len(self.snapshots)]
            meta = dict(mark_s=mark, elapsed_s=round(self.elapsed, 3), iters=self.iters,
                        images=self.images, epoch=epoch)
            path = osp.join(self.out_dir, snapshot_name(mark))
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            atomic_write(path, lambda f: torch.save(dict(state_dict=state, meta=meta), f))
            self.snapshots.append(dict(meta, path=path))
            print(f'[time-budget] {mark:.0f} s: iter {self.iters}, {self.images} images, '
                  f'snapshot {path}', flush=True)
            self.paused += time.perf_counter() - paused_at
        return self.done


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """Drive mmengine's training loop by a :class:`BudgetRun`; raise BudgetReached at the end.

    The config's param schedulers must be off (``param_scheduler=None``): this hook
    sets the lr before every iteration.
    """

    priority = 'VERY_HIGH'

    def __init__(self, marks: Sequence[float], out_dir: str, warmup_s: float = 60.0,
                 start_factor: float = 0.01, eta_min_ratio: float = 0.05) -> None:
        self.run = BudgetRun(marks, out_dir, warmup_s, start_factor, eta_min_ratio)

    def before_train(self, runner) -> None:
        if runner.param_schedulers:
            raise ValueError('TimeBudgetHook sets the lr itself: use param_scheduler=None')
        self.run.begin()

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.run.set_lr(runner.optim_wrapper.param_groups)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        model = getattr(runner.model, 'module', runner.model)
        if self.run.after_step(model, len(data_batch['inputs']), runner.epoch):
            raise BudgetReached(f'{self.run.budget:.0f} s budget spent')
