# Windowed-attention ViT-B/16 (mmpretrain `ViTSAM`, SAM image-encoder weights):
# 14x14 window attention with global attention in blocks 2, 5, 8, 11 and
# relative position biases, so memory grows ~linearly with the image area.
# Use it for large inputs (here 1024 px: small pedestrians get more pixels).
_base_ = './vit_mrcnn_pennfudan.py'

image_size = (1024, 1024)
# input size: rewrite the size-dependent steps of the base pipelines
train_pipeline = [dict(t, **{k: image_size for k in ('scale', 'crop_size', 'size') if k in t})
                  for t in _base_.train_pipeline]
test_pipeline = [dict(t, **{k: image_size for k in ('scale', ) if k in t})
                 for t in _base_.test_pipeline]
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader

model = dict(
    backbone=dict(
        _delete_=True,
        type='mmpretrain.ViTSAM',
        arch='base',
        img_size=image_size[0],
        patch_size=16,
        out_channels=0,          # raw 768-d tokens; SimpleFPN makes the pyramid
        out_type='featmap',
        window_size=14,
        use_rel_pos=True,
        drop_path_rate=0.1,
        init_cfg=dict(
            type='Pretrained', prefix='backbone.',
            checkpoint='https://download.openmmlab.com/mmclassification/v1/vit_sam/'
            'vit-base-p16_sam-pre_3rdparty_sa1b-1024px_20230411-2320f9cc.pth')))
auto_scale_lr = dict(base_batch_size=4)
