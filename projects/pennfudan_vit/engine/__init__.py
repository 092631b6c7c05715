"""Engine pieces: optimizer constructor, hooks, checkpoints, work dirs, Runner."""
from .checkpoints import (AtomicLocalBackend, CheckpointDownloadError,
                          check_checkpoint_for_config, check_checkpoint_matches,
                          config_of_checkpoint,
                          mmengine_safe_globals, register_checkpoint_download_hints,
                          register_mmengine_safe_globals)
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, get_vit_layer_depth
from .rng_state_hook import RNGStateHook
from .runner import build_runner, exit_distributed
from .sample_seed import SampleSeedHook, SeedPerSample, seeders
from .time_budget import BudgetReached, BudgetRun, TimeBudgetHook, budget_lr_factor
from .work_dir import guard_work_dir, lock_work_dir, resume_checkpoint

register_mmengine_safe_globals()
register_checkpoint_download_hints()

__all__ = [
    'AtomicLocalBackend', 'budget_lr_factor', 'BudgetReached', 'BudgetRun', 'build_runner',
    'exit_distributed',
    'check_checkpoint_for_config', 'check_checkpoint_matches', 'CheckpointDownloadError',
    'config_of_checkpoint', 'get_vit_layer_depth', 'guard_work_dir', 'lock_work_dir',
    'mmengine_safe_globals', 'register_checkpoint_download_hints',
    'register_mmengine_safe_globals', 'resume_checkpoint', 'RNGStateHook', 'SampleSeedHook',
    'seeders', 'SeedPerSample', 'TimeBudgetHook', 'ViTLayerDecayOptimWrapperConstructor'
]
