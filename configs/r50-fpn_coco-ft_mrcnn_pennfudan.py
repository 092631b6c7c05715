# ResNet-50 + FPN fine-tuned from mmdet's COCO Mask R-CNN: the standard recipe
# for a dataset this small. The checkpoint is the 3x multi-scale one, mmdet's
# best R50-FPN Mask R-CNN with the pytorch-style ResNet of our model base. Every
# weight but the class-specific layers (fc_cls, fc_reg, conv_logits: sized for
# COCO's 80 classes) comes from it; mmengine loads with strict=False and skips
# those, so they keep their fresh one-class initialisation.
# Offline: --cfg-options load_from=/path/to/<the .pth file named below>.
_base_ = './r50-fpn_mrcnn_pennfudan.py'

load_from = ('https://download.openmmlab.com/mmdetection/v2.0/mask_rcnn/'
             'mask_rcnn_r50_fpn_mstrain-poly_3x_coco/'
             'mask_rcnn_r50_fpn_mstrain-poly_3x_coco_20210524_201154-21b550bb.pth')
# the checkpoint holds the backbone: no ImageNet download
model = dict(backbone=dict(init_cfg=None))

# mmdet's fine-tuning recipe: SGD as on COCO, lr scaled linearly to our batch
# of 8 (0.02 per 16 images), and a short step schedule.
max_epochs = 24
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.001, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', by_epoch=True, begin=0, end=max_epochs,
         milestones=[16, 22], gamma=0.1),
]
optim_wrapper = dict(
    optimizer=dict(_delete_=True, type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4))
