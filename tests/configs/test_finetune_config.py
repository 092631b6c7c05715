"""The COCO fine-tuning config: mmdet's released checkpoint through ``load_from``,
loaded with every shared weight and fresh one-class heads; offline, one line."""
from pathlib import Path

import mmdet
import torch
import yaml
from mmengine.config import Config

import pytest

from helpers import ROOT, TINY_SIZE, tool_main

CONFIG = str(ROOT / 'configs' / 'r50-fpn_coco-ft_mrcnn_pennfudan.py')
MMDET_CONFIGS = Path(mmdet.__file__).parent / '.mim' / 'configs' / 'mask_rcnn'
COCO_MODEL = 'mask-rcnn_r50_fpn_mstrain-poly_3x_coco'
# the layers whose shape follows the number of classes
CLASS_LAYERS = ('bbox_head.fc_cls.', 'bbox_head.fc_reg.', 'mask_head.conv_logits.')
ONE_IMAGE_RUN = ['train_dataloader.dataset.indices=2', 'train_dataloader.batch_size=2',
                 'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
                 'train_cfg.max_epochs=1', 'train_cfg.val_begin=2',
                 'default_hooks.checkpoint.save_optimizer=False']


def test_load_from_is_mmdets_released_coco_checkpoint():
    models = yaml.safe_load((MMDET_CONFIGS / 'metafile.yml').read_text())['Models']
    released = {m['Name']: m for m in models}[COCO_MODEL]
    assert released['Config'].endswith('mask-rcnn_r50_fpn_ms-poly-3x_coco.py')
    cfg = Config.fromfile(CONFIG)
    assert cfg.load_from == released['Weights']
    assert cfg.model.backbone.init_cfg is None  # the checkpoint holds the backbone
    assert cfg.model.roi_head.bbox_head.num_classes == 1
    assert cfg.model.roi_head.mask_head.num_classes == 1
    assert cfg.optim_wrapper.optimizer == dict(type='SGD', lr=0.01, momentum=0.9,
                                               weight_decay=1e-4)
    assert cfg.train_cfg.max_epochs == cfg.param_scheduler[1].end == 24


def _coco_checkpoint(path: Path) -> dict:
    """mmdet's 80-class COCO Mask R-CNN R50-FPN with random weights of another seed
    than the Runner's, constant-initialised tensors (norms, biases) moved off their
    init value, and the class layers set to 0.5."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(str(MMDET_CONFIGS / 'mask-rcnn_r50_fpn_ms-poly-3x_coco.py'))
    cfg.model.backbone.init_cfg = None
    torch.manual_seed(1)
    state = MODELS.build(cfg.model).state_dict()
    for key, value in state.items():
        if any(c in key for c in CLASS_LAYERS):
            state[key] = torch.full_like(value, 0.5)
        elif value.is_floating_point() and (value == value.flatten()[0]).all():
            state[key] = value + 0.01 * torch.rand_like(value)
    assert state['roi_head.bbox_head.fc_cls.weight'].shape == (81, 1024)
    torch.save(dict(meta=dict(epoch=36), state_dict=state), path)
    return state


def _state(path: Path) -> dict:
    import pennfudan_vit.engine  # noqa: F401 - allow-lists Runner checkpoint contents
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def test_load_from_keeps_shared_weights_and_reinitialises_class_heads(coco_data, tmp_path,
                                                                      capsys):
    source = _coco_checkpoint(tmp_path / 'coco.pth')
    # lr 0: the saved weights are the ones training started from
    tool_main('train')([CONFIG, '--work-dir', str(tmp_path / 'work'), '--data-root',
                        str(coco_data), *TINY_SIZE, '--cfg-options',
                        f'load_from={tmp_path}/coco.pth', 'optim_wrapper.optimizer.lr=0',
                        *ONE_IMAGE_RUN])
    printed = capsys.readouterr()
    for layer in CLASS_LAYERS:
        assert f'size mismatch for roi_head.{layer}weight' in printed.out + printed.err
    loaded = _state(tmp_path / 'work' / 'epoch_1.pth')
    assert loaded.keys() == source.keys()
    heads = {k for k in loaded if any(c in k for c in CLASS_LAYERS)}
    assert len(heads) == 6
    for key in loaded.keys() - heads:
        assert torch.equal(loaded[key], source[key]), key
    assert loaded['roi_head.bbox_head.fc_cls.weight'].shape == (2, 1024)  # + background
    assert loaded['roi_head.bbox_head.fc_reg.weight'].shape == (4, 1024)
    assert loaded['roi_head.mask_head.conv_logits.weight'].shape == (1, 256, 1, 1)
    for key in heads:  # mmdet's init: normal weights, zero biases; nothing from the file
        assert not (loaded[key] == 0.5).any(), key
        if key.endswith('bias'):
            assert not loaded[key].any(), key
    assert 0.005 < loaded['roi_head.bbox_head.fc_cls.weight'].std() < 0.02
    assert 0.0005 < loaded['roi_head.bbox_head.fc_reg.weight'].std() < 0.002


def test_unreachable_checkpoint_fails_in_one_line(coco_data, tmp_path, capsys):
    url = 'http://127.0.0.1:9/mask_rcnn_coco.pth'  # nothing listens on port 9
    with pytest.raises(SystemExit) as exit_:
        tool_main('train')([CONFIG, '--work-dir', str(tmp_path), '--data-root', str(coco_data),
                            *TINY_SIZE, '--cfg-options', f'load_from={url}',
                            'train_dataloader.num_workers=0',
                            'train_dataloader.persistent_workers=False'])
    assert exit_.value.code == 2
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f'error: could not download checkpoint {url} (URLError')
    assert '--cfg-options load_from=/path/to/mask_rcnn_coco.pth' in last
    assert 'model.backbone.init_cfg.checkpoint=/path/to/mask_rcnn_coco.pth' in last
    assert f'{torch.hub.get_dir()}/checkpoints/mask_rcnn_coco.pth' in last
