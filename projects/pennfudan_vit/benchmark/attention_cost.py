"""What a ViT backbone's attention costs at a given input size, by arithmetic: FLOPs and
the memory of attention matrices kept for backward when they are materialised."""
import math
from typing import Any, Dict, List, Sequence

from mmengine.config import Config

from ..errors import UserError
from .prepare import init_registries


def backbone_layout(cfg: Config) -> Dict[str, Any]:
    """Width, patch size and per-block attention span (0 = global) of ``cfg``'s backbone."""
    from mmdet.registry import MODELS
    init_registries()
    backbone = MODELS.build(dict(cfg.model.backbone, init_cfg=None))
    if not hasattr(backbone, 'layers') or not hasattr(backbone, 'patch_embed'):
        raise UserError(f'{cfg.filename}: its backbone {type(backbone).__name__} is not a '
                        'ViT; attention arithmetic needs a ViT config')
    return dict(name=type(backbone).__name__, dims=backbone.embed_dims,
                patch=backbone.patch_embed.projection.kernel_size[0],
                heads=[layer.attn.num_heads for layer in backbone.layers],
                windows=[getattr(layer, 'window_size', 0) or 0 for layer in backbone.layers])


def attention_cost(layout: Dict[str, Any], size: int, batch: int = 1,
                   bytes_per_value: int = 2) -> Dict[str, Any]:
    """Forward GFLOPs per image (attention vs. the blocks' linear layers) and the GiB a
    training batch keeps for attention matrices if they are materialised (no fused kernel)."""
    side = size // layout['patch']
    tokens, d = side * side, layout['dims']
    att_flops = linear_flops = att_values = 0
    for heads, window in zip(layout['heads'], layout['windows']):
        if window:   # windows tile the padded grid, on which q/k/v and proj also run
            padded = math.ceil(side / window) * window
            queries, keys = padded * padded, window * window
        else:
            queries, keys = tokens, tokens
        att_flops += 4 * queries * keys * d           # QK^T and AV, 2 FLOPs per MAC
        att_values += heads * queries * keys          # the softmax kept for backward
        linear_flops += 8 * queries * d * d + 16 * tokens * d * d   # qkv + proj, 4x MLP
    return dict(size=size, tokens=tokens, attention_gflops=att_flops / 1e9,
                linear_gflops=linear_flops / 1e9,
                attention_share=att_flops / (att_flops + linear_flops),
                materialised_gib=batch * att_values * bytes_per_value / 2**30, batch=batch)


def attention_table(config_name: str, layout: Dict[str, Any], sizes: Sequence[int],
                    batch: int, gpu_gib: Sequence[float]) -> List[str]:
    """Markdown rows: cost per size, and which GPU memory sizes hold the materialised matrices."""
    rows = []
    for size in sizes:
        c = attention_cost(layout, size, batch)
        fits = ', '.join(f'{g:g}' for g in gpu_gib if c['materialised_gib'] < g) or 'none'
        rows.append(f'| {config_name} | {size} | {c["tokens"]} | {c["attention_gflops"]:.0f} | '
                    f'{c["linear_gflops"]:.0f} | {100 * c["attention_share"]:.0f}% | '
                    f'{c["materialised_gib"]:.1f} | {fits} |')
    return rows


def format_attention_table(rows: Sequence[str], batch: int) -> str:
    """Header plus the rows of :func:`attention_table`."""
    head = ('| config | input | tokens | attention GFLOP/img (fwd) | linear GFLOP/img (fwd) | '
            f'attention share | fp16 attention matrices, batch {batch} (GiB) | '
            'GPUs (GiB) that hold them |')
    return '\n'.join([head, '|' + '---|' * 8, *rows])
