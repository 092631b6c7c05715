# Runtime shared by every config: mmdet's defaults plus the plugin, atomic
# per-epoch checkpoints that keep the best segm mAP, and exact resume.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(
    imports=['pennfudan_vit.models', 'pennfudan_vit.engine', 'mmpretrain.models'],
    allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    # atomic_local: a checkpoint appears whole under its name or not at all
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2,
        save_best='coco/segm_mAP', rule='greater',
        backend_args=dict(backend='atomic_local')))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
# TensorBoard as well: tools/train.py --vis-backend tensorboard
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
# RNG states travel with checkpoints and data-loader workers seed each sample
# from (seed, epoch, index), so --resume replays the same randomness.
custom_hooks = [dict(type='RNGStateHook'), dict(type='SampleSeedHook')]
randomness = dict(seed=0, deterministic=False)
