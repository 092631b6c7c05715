from .checkpoint_compat import mmengine_safe_globals, register_mmengine_safe_globals
from .checkpoint_download import (CheckpointDownloadError,
                                  register_checkpoint_download_hints)
from .rng_state_hook import RNGStateHook
from .layer_decay_optim_wrapper_constructor import (
    ViTLayerDecayOptimWrapperConstructor, get_vit_layer_depth)

__all__ = [
    'RNGStateHook',     'CheckpointDownloadError', 'ViTLayerDecayOptimWrapperConstructor',
    'get_vit_layer_depth', 'mmengine_safe_globals',
    'register_checkpoint_download_hints', 'register_mmengine_safe_globals'
]
