# Penn-Fudan as COCO instance segmentation (JSON written by
# data_prep/pennfudan_to_coco.py into data/pennfudan/annotations/).
#
# Input size: Penn-Fudan images are 253-1017 px wide, median long side ~490 px,
# people 50-400 px tall. 640 px keeps every image at or above its native
# resolution (small, partly occluded pedestrians stay visible) while the ViT
# sees 40x40 tokens, cheap enough for global attention. Training uses
# large-scale jitter around that size (0.5-1.5x, then a 640x640 crop).
dataset_type = 'CocoDataset'
# PENNFUDAN_DATA=DIR points every tool (ours and mmdet's) at another converter output.
data_root = '{{$PENNFUDAN_DATA:data/pennfudan}}/'
metainfo = dict(classes=('pedestrian', ), palette=[(220, 20, 60)])
backend_args = None
image_size = (640, 640)

train_pipeline = [
    dict(type='SeedPerSample'),
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomResize', scale=image_size, ratio_range=(0.5, 1.5),
         keep_ratio=True),
    dict(type='RandomCrop', crop_type='absolute_range', crop_size=image_size,
         recompute_bbox=True, allow_negative_crop=True),
    dict(type='FilterAnnotations', min_gt_bbox_wh=(1e-2, 1e-2)),
    dict(type='Pad', size=image_size, pad_val=dict(img=(114, 114, 114))),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile', backend_args=backend_args),
    dict(type='Resize', scale=image_size, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape',
                    'scale_factor')),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=4,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    batch_sampler=dict(type='AspectRatioBatchSampler'),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_train.json',
        data_prefix=dict(img=''),
        filter_cfg=dict(filter_empty_gt=True, min_size=1),
        pipeline=train_pipeline,
        backend_args=backend_args))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    drop_last=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        metainfo=metainfo,
        ann_file='annotations/instances_val.json',
        data_prefix=dict(img=''),
        test_mode=True,
        pipeline=test_pipeline,
        backend_args=backend_args))
test_dataloader = dict(
    val_dataloader,
    dataset=dict(val_dataloader['dataset'],
                 ann_file='annotations/instances_test.json'))

# COCOeval once over the whole split (never averaged per batch).
val_evaluator = dict(
    type='CocoMetric',
    ann_file=data_root + 'annotations/instances_val.json',
    metric=['bbox', 'segm'],
    format_only=False,
    backend_args=backend_args)
test_evaluator = dict(
    val_evaluator, ann_file=data_root + 'annotations/instances_test.json')
