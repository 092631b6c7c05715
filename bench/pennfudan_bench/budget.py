"""Training for a wall-clock budget, ours and the torchvision reference alike: the lr by
elapsed seconds (a faster step buys more updates), weights saved at time marks."""
import copy
import math
import os.path as osp
import time
from typing import Any, Dict, List, Sequence

import torch
from mmdet.registry import HOOKS
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import set_random_seed

from pennfudan_vit.detector import build_model
from pennfudan_vit.engine import build_runner, configure_fp32
from pennfudan_vit.fileio import atomic_write

from .torchvision_baseline import BaselineDetector, plain_optim_wrapper

START_FACTOR, ETA_MIN_RATIO = 0.01, 0.05   # of the base lr: at time 0, at the end
MODELS = dict(ours=build_model, reference=BaselineDetector)   # config -> model to train


class BudgetReached(Exception):
    """The last snapshot is written: the budget is spent."""


def budget_lr_factor(elapsed: float, budget: float, warmup_s: float) -> float:
    """Multiplier of the base lr after ``elapsed`` of ``budget`` seconds."""
    warm = 1.0 if elapsed >= warmup_s else START_FACTOR + (1 - START_FACTOR) * elapsed / warmup_s
    t = min(max(elapsed / budget, 0.0), 1.0)
    return warm * (ETA_MIN_RATIO + (1 - ETA_MIN_RATIO) * 0.5 * (1 + math.cos(math.pi * t)))


@HOOKS.register_module()
class TimeBudgetHook(Hook):
    """The lr by :func:`budget_lr_factor` of the time from the first iteration (paused while
    snapshots are written), snapshots for ``load_weights`` at the marks, then BudgetReached."""

    priority = 'VERY_HIGH'

    def __init__(self, marks: Sequence[float], out_dir: str, warmup_s: float = 60.0) -> None:
        self.marks = sorted(float(m) for m in marks)
        if not self.marks or self.marks[0] <= 0:
            raise ValueError(f'time marks must be positive seconds, got {list(marks)}')
        self.out_dir, self.warmup_s = out_dir, warmup_s
        self.start, self.paused, self.images, self.iters = None, 0.0, 0, 0
        self.snapshots: List[Dict[str, Any]] = []

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def before_train(self, runner) -> None:
        if runner.param_schedulers:
            raise ValueError('TimeBudgetHook sets the lr itself: use param_scheduler=None')

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.start = self.start or time.perf_counter()
        factor = budget_lr_factor(self.elapsed, self.marks[-1], self.warmup_s)
        for group in runner.optim_wrapper.param_groups:
            group['lr'] = group.setdefault('budget_base_lr', group['lr']) * factor

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        self.images, self.iters = self.images + len(data_batch['inputs']), self.iters + 1
        model = getattr(runner.model, 'module', runner.model)
        while len(self.snapshots) < len(self.marks) and \
                self.elapsed >= self.marks[len(self.snapshots)]:
            paused_at, mark = time.perf_counter(), self.marks[len(self.snapshots)]
            meta = dict(mark_s=mark, elapsed_s=round(self.elapsed, 3), iters=self.iters,
                        images=self.images, epoch=runner.epoch)
            path = osp.join(self.out_dir, f'snapshot_{int(round(mark)):05d}s.pth')
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            atomic_write(path, lambda f: torch.save(dict(state_dict=state, meta=meta), f))
            self.snapshots.append(dict(meta, path=path))
            print(f'[time-budget] {mark:.0f} s: iter {self.iters}, {self.images} images, '
                  f'snapshot {path}', flush=True)
            self.paused += time.perf_counter() - paused_at
        if len(self.snapshots) == len(self.marks):
            raise BudgetReached(f'{self.marks[-1]:.0f} s budget spent')


def train_for_budget(cfg: Config, system: str, marks: Sequence[float], out_dir: str,
                     warmup_s: float, seed: int) -> List[Dict[str, Any]]:
    """The snapshots of ``system`` (a key of ``MODELS``) trained from random init in the
    Runner under :class:`TimeBudgetHook`, without validation, checkpoints or schedulers."""
    set_random_seed(seed)   # the Runner seeds later: the initial weights are drawn now
    model, cfg = MODELS[system](cfg), copy.deepcopy(cfg)
    cfg.work_dir, cfg.randomness = out_dir, dict(seed=seed, deterministic=False)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10**6, val_interval=10**6)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = [*cfg.get('custom_hooks', []), dict(
        type='TimeBudgetHook', marks=list(marks), out_dir=out_dir, warmup_s=warmup_s)]
    if system == 'reference':
        cfg.optim_wrapper = plain_optim_wrapper(cfg)
    elif cfg.optim_wrapper.type == 'CPUBF16OptimWrapper':
        configure_fp32(cfg.optim_wrapper)   # both in fp32: the reference has no bf16
    runner = build_runner(cfg, model)
    try:
        runner.train()
    except BudgetReached:
        return next(h for h in runner.hooks if isinstance(h, TimeBudgetHook)).snapshots
    raise RuntimeError('training stopped before the time budget was spent')
