# The AdamW schedule with ViT layer-wise lr decay (ViTDet recipe).
_base_ = './adamw_50e.py'

optim_wrapper = dict(
    constructor='ViTLayerDecayOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, layer_decay_rate=0.7))
