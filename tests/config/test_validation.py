"""Config mistakes become one UserError naming the key; correct options pass."""
import pytest

from helpers import CPU_CONFIG

from pennfudan_vit.config import load_config
from pennfudan_vit.errors import UserError


@pytest.mark.parametrize('options, message', [
    ({'model.neck.out_channels': 'abc'}, 'expected a number'),
    ({'train_cfg.max_epochs': [1, 2]}, 'expected a number'),
    ({'randomness.deterministic': 'yes'}, 'expected a bool'),
    ({'model.nekc.out_channels': 64}, 'no "nekc" in model'),
    ({'model.neck.out_chanels': 64}, 'SimpleFPN takes no argument "out_chanels"'),
    ({'default_hooks.logger.intervall': 5}, 'LoggerHook takes no argument "intervall"'),
    ({'default_hooks.checkpoint.bogus': 1}, 'CheckpointHook takes no argument "bogus"'),
    ({'custom_hooks.5.x': 1}, 'index 5 is out of range'),
    ({'train_dataloader.dataset.pipeline.3.prob.x': 1}, 'is a float'),
    ({'train_dataloader.dataset.pipeline.3.probb': 0.5}, 'RandomFlip takes no argument "probb"'),
    ({'train_dataloader.sampler.shufle': False}, 'DefaultSampler takes no argument "shufle"'),
    ({'model.train_cfg.rpn.assigner.pos_iou_thrr': 0.5},
     'MaxIoUAssigner takes no argument "pos_iou_thrr"'),
    ({'model.roi_head.bbox_roi_extractor.type': 'SeparableRoIExtracter'},
     r'SeparableRoIExtracter is not in the model registry \(close: SeparableRoIExtractor'),
    ({'optim_wrapper.type': 'AmpOptimWraper'},
     r'AmpOptimWraper is not in the optim_wrapper registry \(close: AmpOptimWrapper'),
    # the pyramid's strides and the heads' strides must agree (mmdet trusts them)
    ({'model.neck.start_level': 0},
     r'outputs strides \[4, 8, 16, 32\], but model.rpn_head.anchor_generator.strides'),
    ({'model.rpn_head.anchor_generator.strides': [4, 8, 16, 32]}, 'anchor_generator.strides'),
    ({'model.roi_head.mask_roi_extractor.featmap_strides': [16, 32]},
     r'mask_roi_extractor.featmap_strides is \[16, 32\]: it must be the first of them'),
])
def test_bad_options(options, message):
    with pytest.raises(UserError, match=message):
        load_config(CPU_CONFIG, options)


@pytest.mark.parametrize('options', [
    {'model.neck.out_channels': 64, 'train_cfg.max_epochs': 2},
    {'optim_wrapper.optimizer.lr': 1},                 # int for a float
    {'model.backbone.init_cfg': None},                 # None for a dict
    {'default_hooks.checkpoint.max_keep_ckpts': 3},
    {'default_hooks.checkpoint.filename_tmpl': 'ep_{}.pth'},  # forwarded to save_checkpoint
    {'val_evaluator.metric': 'bbox'},                  # str for a list of str
    {'model.neck.act_cfg': dict(type='ReLU')},
    {'model.roi_head.bbox_roi_extractor.type': 'SeparableRoIExtractor',   # the plugin's
     'optim_wrapper.type': 'OptimWrapper'},                              # mmengine's
    {'model.neck.start_level': 0, 'model.neck.num_outs': 5,   # the stride-4 pyramid again
     'model.rpn_head.anchor_generator.strides': [4, 8, 16, 32, 64],
     'model.roi_head.bbox_roi_extractor.featmap_strides': [4, 8, 16, 32],
     'model.roi_head.mask_roi_extractor.featmap_strides': [4, 8, 16, 32]},
])
def test_good_options(options):
    cfg = load_config(CPU_CONFIG, options)
    for key, value in options.items():
        node = cfg
        for part in key.split('.'):
            node = node[part]
        assert node == value


def test_missing_config_is_named(tmp_path):
    with pytest.raises(UserError, match='nope.py does not exist'):
        load_config(str(tmp_path / 'nope.py'))
