# CPU config: DeiT-tiny-size ViT (192-d, 12 blocks) from random init at 384 px, narrow
# heads, few sampled RoIs and batch 2: one `make demo` on 2 cores (docs/benchmarks.md).
# To fine-tune from ImageNet: backbone init_cfg = mmpretrain's deit-tiny_pt-4xb256_in1k.
_base_ = './vit_mrcnn_pennfudan.py'

image_size = (384, 384)
# from random init, a short run learns faster without scale jitter (docs/benchmarks.md)
train_pipeline = [
    dict(type='SeedPerSample'),
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs'),
]
test_pipeline = [dict(t, **{k: image_size for k in ('scale', ) if k in t})
                 for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=2, num_workers=2, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
# Penn-Fudan's people are large: no stride-4 level (most of the neck and RPN cost), one RPN conv
ch, strides = 128, [8, 16, 32, 64]
model = dict(
    backbone=dict(arch='deit-tiny', img_size=image_size[0], drop_path_rate=0.0,
                  init_cfg=None),
    neck=dict(backbone_channel=192, out_channels=ch, start_level=1, num_outs=4),
    rpn_head=dict(in_channels=ch, feat_channels=ch, num_convs=1,
                  anchor_generator=dict(strides=strides)),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=ch, featmap_strides=strides[:3]),
        bbox_head=dict(type='Shared2FCBBoxHead', in_channels=ch, fc_out_channels=512),
        mask_roi_extractor=dict(out_channels=ch, featmap_strides=strides[:3]),
        mask_head=dict(in_channels=ch, conv_out_channels=ch)),
    train_cfg=dict(rcnn=dict(sampler=dict(num=128))))

max_epochs = 13
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='CosineAnnealingLR', by_epoch=True, begin=0, end=max_epochs,
         eta_min_ratio=0.05, convert_to_iter_based=True),
]
# bf16 autocast where the CPU has bf16 units (same accuracy as fp32, faster: see
# docs/benchmarks.md), fp32 elsewhere; tools/train.py --fp32 trains in fp32 everywhere
optim_wrapper = dict(
    type='CPUBF16OptimWrapper',
    optimizer=dict(lr=4e-4, weight_decay=0.05),
    paramwise_cfg=dict(layer_decay_rate=1.0))   # from scratch: no layer decay
auto_scale_lr = dict(base_batch_size=2)
default_hooks = dict(logger=dict(interval=5))
