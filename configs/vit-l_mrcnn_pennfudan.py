# ViT-L/16 (mmpretrain, ImageNet-21k pre-trained, 1k fine-tuned): the most
# accurate plain-ViT config; 24 blocks, so layer decay 0.8 and drop path 0.4
# as in ViTDet. Needs a large GPU (see README table).
_base_ = './vit_mrcnn_pennfudan.py'

model = dict(
    backbone=dict(
        arch='large',
        drop_path_rate=0.4,
        init_cfg=dict(checkpoint='https://download.openmmlab.com/mmclassification/v0/vit/'
                      'finetune/vit-large-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_'
                      '20210928-b20ba619.pth')),
    neck=dict(backbone_channel=1024))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.8))
