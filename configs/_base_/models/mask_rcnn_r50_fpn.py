# mmdet's Mask R-CNN R50-FPN (torchvision ImageNet weights) sized for Penn-Fudan:
# one class, and fewer proposals, sampled RoIs and detections than COCO's
# defaults, since an image holds at most ~15 people (docs/benchmarks.md).
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'

model = dict(
    data_preprocessor=dict(pad_size_divisor=32, pad_mask=True),
    roi_head=dict(bbox_head=dict(num_classes=1), mask_head=dict(num_classes=1)),
    train_cfg=dict(
        rpn_proposal=dict(nms_pre=2000, max_per_img=1000),
        rcnn=dict(sampler=dict(num=256))),
    test_cfg=dict(
        rpn=dict(nms_pre=500, max_per_img=100),
        rcnn=dict(max_per_img=50)))
