"""Engine pieces a training run registers: optimizer constructor, hooks, checkpoint
loading under torch>=2.6, work dirs and the Runner."""
from .checkpoints import (AtomicLocalBackend, CheckpointDownloadError, mmengine_safe_globals,
                          register_checkpoint_download_hints, register_mmengine_safe_globals)
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, get_vit_layer_depth
from .rng_state_hook import RNGStateHook
from .runner import build_runner, exit_distributed
from .sample_seed import SampleSeedHook, SeedPerSample, seeders
from .work_dir import guard_work_dir, lock_work_dir, resume_checkpoint

register_mmengine_safe_globals()
register_checkpoint_download_hints()

__all__ = [
    'AtomicLocalBackend', 'build_runner', 'CheckpointDownloadError', 'exit_distributed',
    'get_vit_layer_depth', 'guard_work_dir', 'lock_work_dir', 'mmengine_safe_globals',
    'register_checkpoint_download_hints', 'register_mmengine_safe_globals',
    'resume_checkpoint', 'RNGStateHook', 'SampleSeedHook', 'seeders', 'SeedPerSample',
    'ViTLayerDecayOptimWrapperConstructor'
]
