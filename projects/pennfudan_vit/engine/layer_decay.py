"""Layer-wise learning-rate decay for detectors with an mmpretrain ViT backbone.

mmdet's ``LearningRateDecayOptimizerConstructor`` only knows ConvNeXt names and
mmpretrain's needs the top-level model to expose ``get_layer_depth``; a detector
has neither. Here the depth of a parameter comes from its name:

* ``backbone.{cls_token,pos_embed,patch_embed,...}``  -> depth 0
* ``backbone.layers.N.*``                             -> depth N + 1
* everything else (final norm, neck, heads)           -> depth L + 1

with ``L`` the number of ViT blocks, and its learning rate is
``base_lr * decay_rate ** (L + 1 - depth)``. Weight decay is 0 for
position embeddings, the cls token, relative position tables, and every 1-D
parameter (norm weights and all biases).
"""
from typing import Dict, List, Optional, Tuple

import torch.nn as nn
from mmengine.dist import get_dist_info
from mmengine.logging import MMLogger
from mmengine.optim import DefaultOptimWrapperConstructor
from mmdet.registry import OPTIM_WRAPPER_CONSTRUCTORS

EMBED_NAMES = ('cls_token', 'pos_embed', 'patch_embed', 'mask_token', 'dist_token')
NO_DECAY_NAMES = ('pos_embed', 'cls_token', 'mask_token', 'dist_token',
                  'rel_pos_h', 'rel_pos_w')


def get_vit_layer_depth(name: str, num_layers: int,
                        backbone_prefix: str = 'backbone.') -> int:
    """Depth of parameter ``name`` in ``[0, num_layers + 1]`` (see module doc)."""
    if not name.startswith(backbone_prefix):
        return num_layers + 1
    rel = name[len(backbone_prefix):]
    if rel.startswith(EMBED_NAMES):
        return 0
    if rel.startswith('layers.'):
        return int(rel.split('.')[1]) + 1
    return num_layers + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class ViTLayerDecayOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Optimizer-wrapper constructor with ViT layer-wise lr decay.

    Config::

        optim_wrapper = dict(
            type='AmpOptimWrapper',
            constructor='ViTLayerDecayOptimWrapperConstructor',
            optimizer=dict(type='AdamW', lr=1e-4, weight_decay=0.1),
            paramwise_cfg=dict(layer_decay_rate=0.7))

    ``paramwise_cfg`` keys: ``layer_decay_rate`` (float in (0, 1]),
    ``num_layers`` (ViT depth; inferred from ``backbone.layers`` if omitted),
    ``backbone_prefix`` (default ``'backbone.'``) and ``no_decay_names``
    (extra name suffixes exempt from weight decay).

    Parameters are grouped by (depth, decayed or not); each group carries
    ``layer_depth`` and ``lr_scale`` keys. The full-rate groups come first so
    mmengine's logged ``lr`` (the first group's) is the base rate.
    """

    ALLOWED_KEYS = {'layer_decay_rate', 'num_layers', 'backbone_prefix', 'no_decay_names'}

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = set(paramwise_cfg) - self.ALLOWED_KEYS
        if unknown:
            raise ValueError(
                f'ViTLayerDecayOptimWrapperConstructor: unknown paramwise_cfg keys '
                f'{sorted(unknown)}; allowed: {sorted(self.ALLOWED_KEYS)}')
        rate = paramwise_cfg.get('layer_decay_rate', 1.0)
        if not 0 < rate <= 1:
            raise ValueError(f'layer_decay_rate must be in (0, 1], got {rate}')
        self.layer_decay_rate = float(rate)
        self.num_layers = paramwise_cfg.get('num_layers')
        self.backbone_prefix = paramwise_cfg.get('backbone_prefix', 'backbone.')
        self.no_decay_names: Tuple[str, ...] = NO_DECAY_NAMES + tuple(
            paramwise_cfg.get('no_decay_names', ()))
        # the parent validates mmengine's own paramwise keys, which we do not use
        super().__init__(optim_wrapper_cfg, None)
        # non-empty, so the parent's __call__ goes through add_params()
        self.paramwise_cfg = dict(paramwise_cfg, layer_decay_rate=self.layer_decay_rate)

    def _infer_num_layers(self, module: nn.Module) -> int:
        backbone = getattr(module, 'backbone', None)
        layers = getattr(backbone, 'layers', None)
        if not isinstance(layers, nn.ModuleList):
            raise TypeError(
                'ViTLayerDecayOptimWrapperConstructor needs a backbone with a '
                '`layers` ModuleList (mmpretrain VisionTransformer/ViTSAM) or '
                '`paramwise_cfg.num_layers`; got backbone '
                f'{type(backbone).__name__}')
        return len(layers)

    def add_params(self, params: List[dict], module: nn.Module, prefix: str = '',
                   is_dcn_module: Optional[int] = None) -> None:
        """Append one param group per (layer depth, weight decay on/off)."""
        num_layers = self.num_layers or self._infer_num_layers(module)
        base_lr = self.base_lr
        base_wd = self.base_wd or 0.
        groups: Dict[Tuple[int, bool], dict] = {}
        for name, param in module.named_parameters(prefix=prefix.rstrip('.')):
            if not param.requires_grad:
                continue
            depth = get_vit_layer_depth(name, num_layers, self.backbone_prefix)
            no_decay = param.ndim == 1 or name.endswith(self.no_decay_names)
            scale = self.layer_decay_rate ** (num_layers + 1 - depth)
            key = (depth, no_decay)
            if key not in groups:
                groups[key] = dict(
                    params=[], param_names=[], lr=base_lr * scale,
                    weight_decay=0. if no_decay else base_wd,
                    layer_depth=depth, lr_scale=scale)
            groups[key]['params'].append(param)
            groups[key]['param_names'].append(name)
        ordered = sorted(groups.items(), key=lambda kv: (-kv[0][0], kv[0][1]))
        params.extend(g for _, g in ordered)
        rank, _ = get_dist_info()
        if rank == 0:
            MMLogger.get_current_instance().info(
                f'layer decay {self.layer_decay_rate} over {num_layers} ViT blocks: '
                f'{len(ordered)} param groups, lr scale from '
                f'{min(g["lr_scale"] for g in params):.3g} to 1')
