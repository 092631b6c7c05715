"""Benchmark set-up on the real converted data: the command line applied to the config."""
import pytest
import torch

from helpers import CPU_CONFIG, ROOT
from pennfudan_vit.benchmark import measured_input_size, prepare_config, resolve_device
from pennfudan_vit.errors import UserError

MAIN_CONFIG = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')


def test_main_config_drops_pretrained_and_resizes(coco_data):
    cfg, notes = prepare_config(MAIN_CONFIG, data_root=str(coco_data), mode='infer',
                                input_size=(96, 160), batch_size=3)
    assert cfg.model.backbone.init_cfg is None and not cfg.get('load_from')
    assert any('dropped pretrained init (model.backbone.init_cfg)' in n for n in notes)
    assert any(n.startswith('random weights') for n in notes)
    assert cfg.model.backbone.img_size == (96, 160) and cfg.train_dataloader.batch_size == 3
    assert measured_input_size(cfg, 'infer') == [96, 160]
    assert measured_input_size(cfg, 'train') == [96, 160]


def test_data_mode_options(coco_data):
    cfg, notes = prepare_config(CPU_CONFIG, {'train_dataloader.pin_memory': True,
                                             'train_dataloader.num_workers': 0},
                                data_root=str(coco_data), mode='data')
    assert cfg.train_dataloader.pin_memory is True
    assert cfg.train_dataloader.persistent_workers is False
    assert notes == ['num_workers=0: persistent_workers set to False']


def test_user_errors(coco_data, tmp_path):
    with pytest.raises(UserError, match='checkpoint .*missing.pth does not exist'):
        prepare_config(CPU_CONFIG, data_root=str(coco_data),
                       checkpoint=str(tmp_path / 'missing.pth'))
    with pytest.raises(UserError, match='data-root'):
        prepare_config(CPU_CONFIG, data_root=str(tmp_path / 'nowhere'))
    empty = tmp_path / 'empty'
    (empty / 'annotations').mkdir(parents=True)
    with pytest.raises(UserError, match='instances_test.json does not exist'):
        prepare_config(CPU_CONFIG, data_root=str(empty), mode='infer')
    if not torch.cuda.is_available():
        with pytest.raises(UserError, match='CUDA is not available'):
            resolve_device('cuda')
    assert resolve_device('cpu') == 'cpu'
