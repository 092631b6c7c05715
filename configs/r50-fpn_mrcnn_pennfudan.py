# ResNet-50 + FPN (torchvision ImageNet weights): the classic Mask R-CNN
# baseline with the same heads, data and schedule, to compare ViTs against.
_base_ = './vit_mrcnn_pennfudan.py'

model = dict(
    backbone=dict(
        _delete_=True,
        type='ResNet',
        depth=50,
        num_stages=4,
        out_indices=(0, 1, 2, 3),
        frozen_stages=1,
        norm_cfg=dict(type='BN', requires_grad=True),
        norm_eval=True,
        style='pytorch',
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet50')),
    neck=dict(_delete_=True, type='FPN', in_channels=[256, 512, 1024, 2048],
              out_channels=256, num_outs=5))
optim_wrapper = dict(
    constructor='DefaultOptimWrapperConstructor',
    paramwise_cfg=dict(_delete_=True, norm_decay_mult=0.))
