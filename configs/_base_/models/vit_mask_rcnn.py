# ViTDet-style Mask R-CNN: mmpretrain ViT-B/16 -> SimpleFPN -> the Penn-Fudan
# Mask R-CNN heads, with 2 RPN convs, a 4conv-1fc box head and LN2d in neck and
# heads, as in ViTDet. Only the differences from the R50-FPN model live here.
# RoIAlign runs torchvision's kernel (the same values and gradients as mmcv's, faster
# on CPU); SeparableRoIExtractor gives it a multi-core CPU backward (docs/benchmarks.md).
_base_ = './mask_rcnn_r50_fpn.py'

norm_cfg = dict(type='mmpretrain.LN2d', eps=1e-6)
pretrained = ('https://download.openmmlab.com/mmclassification/v0/vit/finetune/'
              'vit-base-p16_in21k-pre-3rdparty_ft-64xb64_in1k-384_20210928-98e8652b.pth')

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='base',
        img_size=640,            # pos-embed grid; resized at run time for other sizes
        patch_size=16,
        out_type='featmap',      # (B, C, H/16, W/16), cls token dropped from the map
        with_cls_token=True,     # keeps pretrained pos-embed layouts loadable
        drop_path_rate=0.1,
        init_cfg=dict(type='Pretrained', checkpoint=pretrained, prefix='backbone.')),
    neck=dict(
        _delete_=True,
        type='SimpleFPN',
        backbone_channel=768,
        out_channels=256,
        num_outs=5,
        norm_cfg=norm_cfg),
    rpn_head=dict(num_convs=2),
    roi_head=dict(
        bbox_roi_extractor=dict(
            type='SeparableRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=7, sampling_ratio=2,
                           use_torchvision=True)),
        bbox_head=dict(
            type='Shared4Conv1FCBBoxHead', conv_out_channels=256, norm_cfg=norm_cfg),
        mask_roi_extractor=dict(
            type='SeparableRoIExtractor',
            roi_layer=dict(type='RoIAlign', output_size=14, sampling_ratio=2,
                           use_torchvision=True)),
        mask_head=dict(norm_cfg=norm_cfg)))
