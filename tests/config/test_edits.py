"""The config edits every tool shares: input size, data root, pretrained weights."""
import pytest

from helpers import CPU_CONFIG, ROOT

from pennfudan_vit.config import (drop_pretrained, load_config, pipeline_size, set_data_root,
                                  set_input_size)
from pennfudan_vit.errors import UserError

MAIN = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')


def sizes(cfg, name):
    pipeline = cfg[name].dataset.pipeline
    return {t['type']: t.get('scale', t.get('size', t.get('crop_size'))) for t in pipeline
            if t['type'] in ('Resize', 'RandomResize', 'Pad', 'RandomCrop')}


@pytest.mark.parametrize('config', [MAIN, CPU_CONFIG])
def test_input_size_follows_step_types_not_positions(config):
    cfg = load_config(config)
    # a step inserted at the front must not shift what is changed
    cfg.train_dataloader.dataset.pipeline.insert(0, dict(type='LoadImageFromFile'))
    set_input_size(cfg, (256, 320))
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        found = sizes(cfg, name)
        assert found and all(v == (320, 256) for k, v in found.items()
                             if k != 'RandomCrop'), (name, found)
    assert cfg.model.backbone.img_size == (256, 320)
    assert pipeline_size(cfg, 'test_dataloader') == [256, 320]


def test_square_size_keeps_the_jitter_crop_range():
    cfg = load_config(MAIN)
    set_input_size(cfg, (128, 128))
    crop = next(t for t in cfg.train_dataloader.dataset.pipeline if t['type'] == 'RandomCrop')
    assert crop['crop_type'] == 'absolute_range' and crop['crop_size'] == (128, 128)
    assert cfg.model.backbone.img_size == 128


@pytest.mark.parametrize('size', [(100, 128), (0, 64), (-32, 64)])
def test_bad_input_size_is_a_user_error(size):
    with pytest.raises(UserError, match='multiples of 32'):
        set_input_size(load_config(CPU_CONFIG), size)


def test_data_root_moves_datasets_and_evaluators(tmp_path):
    cfg = load_config(CPU_CONFIG)
    set_data_root(cfg, str(tmp_path))
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[name].dataset
        assert ds.data_root == f'{tmp_path}/' and ds.ann_file.startswith('annotations/')
    assert cfg.val_evaluator.ann_file == f'{tmp_path}/annotations/instances_val.json'
    assert cfg.test_evaluator.ann_file == f'{tmp_path}/annotations/instances_test.json'


def test_data_root_from_the_environment_reaches_every_tool(tmp_path, monkeypatch):
    monkeypatch.setenv('PENNFUDAN_DATA', str(tmp_path))
    from mmengine.config import Config
    cfg = Config.fromfile(CPU_CONFIG)  # as mmdet's own tools load it
    assert cfg.train_dataloader.dataset.data_root == f'{tmp_path}/'
    assert cfg.test_evaluator.ann_file.startswith(f'{tmp_path}/')


def test_drop_pretrained_names_what_it_removed():
    cfg = load_config(MAIN)
    cfg.load_from = 'x.pth'
    assert drop_pretrained(cfg) == ['model.backbone.init_cfg', 'load_from']
    assert cfg.model.backbone.init_cfg is None and cfg.load_from is None
    assert drop_pretrained(cfg) == []
