"""Train our config or the torchvision reference for a wall-clock budget, with snapshots."""
import copy
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from ..config import pipeline_size
from ..engine import BudgetReached, BudgetRun, TimeBudgetHook, build_runner, seeders
from ..errors import UserError
from .reference import build_reference, from_mmdet, reference_backbone_args

SYSTEMS = ('ours', 'reference')
# the reference's optimizer: the config's (AdamW, clipping), or torchvision's Penn-Fudan
# tutorial (SGD 0.005 at batch 2, momentum 0.9, weight decay 5e-4, no clipping)
REFERENCE_RECIPES = ('config', 'torchvision')


def budget_config(cfg: Config, marks: Sequence[float], out_dir: str, warmup_s: float,
                  seed: int) -> Config:
    """``cfg`` under TimeBudgetHook: no validation, checkpoints or lr schedulers."""
    cfg = copy.deepcopy(cfg)
    cfg.work_dir = out_dir
    cfg.randomness = dict(seed=seed, deterministic=False)
    cfg.train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10**6, val_interval=10**6)
    cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    cfg.param_scheduler = None
    cfg.default_hooks.checkpoint = None
    cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
        dict(type='TimeBudgetHook', marks=list(marks), out_dir=out_dir, warmup_s=warmup_s)]
    return cfg


def train_ours(cfg: Config, marks: Sequence[float], out_dir: str, warmup_s: float,
               seed: int, recipe: str = 'config') -> List[Dict[str, Any]]:
    """Train the config's model through mmengine's Runner; the snapshots taken."""
    runner = build_runner(budget_config(cfg, marks, out_dir, warmup_s, seed))
    hook = next(h for h in runner.hooks if isinstance(h, TimeBudgetHook))
    try:
        runner.train()
    except BudgetReached:
        return hook.run.snapshots
    raise RuntimeError('training stopped before the time budget was spent')


def reference_model_args(cfg: Config) -> Dict[str, Any]:
    """``build_reference`` arguments matching the config's ViT and train input size."""
    return dict(input_size=pipeline_size(cfg, 'train_dataloader'),
                **reference_backbone_args(cfg))


def reference_optimizer(model: torch.nn.Module, cfg: Config, recipe: str,
                        batch_size: int) -> Tuple[torch.optim.Optimizer, Optional[dict]]:
    """The reference's optimizer and gradient clipping under ``recipe``."""
    if recipe == 'torchvision':   # lr scaled linearly from the tutorial's batch of 2
        return torch.optim.SGD(model.parameters(), lr=0.005 * batch_size / 2, momentum=0.9,
                               weight_decay=5e-4), None
    opt_cfg = cfg.optim_wrapper.optimizer
    if opt_cfg.get('type') != 'AdamW':
        raise UserError(f"--reference-recipe config needs an AdamW config, got "
                        f"{opt_cfg.get('type')}: use --reference-recipe torchvision")
    return torch.optim.AdamW(model.parameters(), lr=opt_cfg.lr,
                             betas=tuple(opt_cfg.get('betas', (0.9, 0.999))),
                             weight_decay=opt_cfg.get('weight_decay', 0.01)), \
        cfg.optim_wrapper.get('clip_grad')


def train_reference(cfg: Config, marks: Sequence[float], out_dir: str, warmup_s: float,
                    seed: int, recipe: str = 'config',
                    log_interval: int = 20) -> List[Dict[str, Any]]:
    """Train the torchvision reference on the config's train loader; the snapshots taken.

    Same data (pipeline, sampler, batch size) and time-based lr policy as
    :func:`train_ours`; the optimizer of ``recipe`` (see :data:`REFERENCE_RECIPES`).
    """
    from mmengine.runner import Runner, set_random_seed
    set_random_seed(seed)
    model = build_reference(**reference_model_args(cfg)).train()
    loader = Runner.build_dataloader(cfg.train_dataloader, seed=seed)
    loader.generator = torch.Generator().manual_seed(seed)
    optimizer, clip = reference_optimizer(model, cfg, recipe, cfg.train_dataloader.batch_size)
    run = BudgetRun(marks, out_dir, warmup_s)
    run.begin()
    epoch = 0
    while True:
        if hasattr(loader.sampler, 'set_epoch'):
            loader.sampler.set_epoch(epoch)
        for step in seeders(loader.dataset):
            step.set_epoch(seed, epoch)
        for data in loader:
            factor = run.set_lr(optimizer.param_groups)
            images, targets = from_mmdet(data)
            losses = model(images, targets)
            loss = sum(losses.values())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip:
                torch.nn.utils.clip_grad_norm_(model.parameters(), **clip)
            optimizer.step()
            if run.iters % log_interval == 0:
                print(f'[reference] epoch {epoch} iter {run.iters + 1} {run.elapsed:.0f} s '
                      f'lr x{factor:.3f} loss {loss.item():.4f}', flush=True)
            if run.after_step(model, len(images), epoch):
                return run.snapshots
        epoch += 1
