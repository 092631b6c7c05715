"""pennfudan_vit: what mmdet, mmpretrain and mmengine lack to train a ViT Mask R-CNN.

Importing the package registers its modules into mmdet's registries (the
configs reach it via ``custom_imports``), allow-lists mmengine checkpoint
contents for torch>=2.6 ``weights_only`` loading, and makes remote checkpoint
download failures readable.
"""
from .engine import (CheckpointDownloadError, ViTLayerDecayOptimWrapperConstructor,
                     get_vit_layer_depth, register_checkpoint_download_hints,
                     register_mmengine_safe_globals)
from .models import SimpleFPN

__version__ = '0.1.0'

register_mmengine_safe_globals()
register_checkpoint_download_hints()

__all__ = [
    'CheckpointDownloadError', 'SimpleFPN', 'ViTLayerDecayOptimWrapperConstructor',
    'get_vit_layer_depth', '__version__'
]
