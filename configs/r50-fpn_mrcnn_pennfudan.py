# ResNet-50 + FPN (torchvision ImageNet weights): the classic Mask R-CNN
# baseline with the same data and schedule, to compare ViTs against.
_base_ = [
    '_base_/models/mask_rcnn_r50_fpn.py',
    '_base_/datasets/pennfudan_instance.py',
    '_base_/schedules/adamw_50e.py',
    '_base_/default_runtime.py',
]
