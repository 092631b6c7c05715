"""Engine pieces a training run registers: optimizer constructor, hooks, checkpoint
loading under torch>=2.6, work dirs and the Runner."""
from .checkpoints import (AtomicLocalBackend, CheckpointDownloadError, mmengine_safe_globals,
                          register_checkpoint_download_hints, register_mmengine_safe_globals)
from .layer_decay import ViTLayerDecayOptimWrapperConstructor, get_vit_layer_depth
from .mixed_precision import (WRAPPER_DTYPES, CPUBF16OptimWrapper, CPUBF16ModelHook,
                              adapt_to_cpu_bf16, amp_dtype, configure_amp, configure_fp32,
                              describe_precision, loop_dtype)
from .rng_state_hook import RNGStateHook
from .runner import build_runner, exit_distributed
from .sample_seed import SampleSeedHook, SeedPerSample, seeders
from .work_dir import guard_work_dir, lock_work_dir, resume_checkpoint

register_mmengine_safe_globals()
register_checkpoint_download_hints()

__all__ = [
    'adapt_to_cpu_bf16', 'amp_dtype', 'AtomicLocalBackend', 'build_runner',
    'CheckpointDownloadError', 'configure_amp', 'configure_fp32', 'CPUBF16OptimWrapper',
    'describe_precision', 'exit_distributed', 'CPUBF16ModelHook', 'loop_dtype', 'WRAPPER_DTYPES',
    'get_vit_layer_depth', 'guard_work_dir', 'lock_work_dir', 'mmengine_safe_globals',
    'register_checkpoint_download_hints', 'register_mmengine_safe_globals',
    'resume_checkpoint', 'RNGStateHook', 'SampleSeedHook', 'seeders', 'SeedPerSample',
    'ViTLayerDecayOptimWrapperConstructor'
]
