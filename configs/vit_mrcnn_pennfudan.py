# The main config: ViT-B/16 (mmpretrain, ImageNet-21k pre-trained, 1k fine-tuned)
# + SimpleFPN + Mask R-CNN on Penn-Fudan, for one CUDA GPU (batch 8, AMP,
# 640 px). Other backbones are child configs of this file.
_base_ = [
    '_base_/models/vit_mask_rcnn.py',
    '_base_/datasets/pennfudan_instance.py',
    '_base_/schedules/adamw_layer_decay_50e.py',
    '_base_/default_runtime.py',
]
