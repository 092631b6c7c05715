"""pennfudan_vit: what mmdet, mmpretrain and mmengine lack to train a ViT Mask R-CNN.

Importing the package itself loads nothing heavy, so the torch-free parts
(``evaluation``, ``deploy.runtime``) work without torch. The configs register
the mmdet modules through ``custom_imports`` (``pennfudan_vit.models``,
``pennfudan_vit.engine``); ``import pennfudan_vit.engine`` also allow-lists
mmengine checkpoint contents for torch>=2.6 ``weights_only`` loading.
"""
from . import stack_warnings  # noqa: F401  (stdlib only: filters the stack's noise first)

__version__ = '0.2.0'
