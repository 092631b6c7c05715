# ViT-S/16 (mmpretrain `deit-small`, ImageNet-1k DeiT weights): a lighter GPU
# config than ViT-B, for quick experiments and smaller GPUs.
_base_ = './vit_mrcnn_pennfudan.py'

model = dict(
    backbone=dict(
        arch='deit-small',
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmclassification/v0/'
                      'deit/deit-small_pt-4xb256_in1k_20220218-9425b9bb.pth')),
    neck=dict(backbone_channel=384))
