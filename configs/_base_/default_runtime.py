# Runtime shared by every config: mmdet's defaults plus the plugin import,
# per-epoch checkpoints that keep the best segm mAP, and readable logs.
_base_ = 'mmdet::_base_/default_runtime.py'

custom_imports = dict(
    imports=['pennfudan_vit', 'mmpretrain.models'], allow_failed_imports=False)

default_hooks = dict(
    logger=dict(type='LoggerHook', interval=10),
    checkpoint=dict(
        type='CheckpointHook', interval=1, max_keep_ckpts=2,
        save_best='coco/segm_mAP', rule='greater'))
log_processor = dict(type='LogProcessor', window_size=10, by_epoch=True)
# TensorBoard: --cfg-options "visualizer.vis_backends=[dict(type='LocalVisBackend'),dict(type='TensorboardVisBackend')]"
visualizer = dict(
    type='DetLocalVisualizer', vis_backends=[dict(type='LocalVisBackend')],
    name='visualizer')
# RNG states travel with checkpoints, so --resume replays the same randomness.
custom_hooks = [dict(type='RNGStateHook')]
randomness = dict(seed=0, deterministic=False)
