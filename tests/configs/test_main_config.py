"""The main (GPU) config on CPU: a few real training iterations through
tools/train.py's main, and an overfitting check on one fixed batch."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from helpers import ROOT, tool_main

MAIN = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')
# ViT-B/16 at 128 px, 4 images, no download (random init), fp32 on CPU
SMALL = [
    'model.backbone.init_cfg=None',
    'train_dataloader.dataset.indices=4', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
    'model.train_cfg.rpn_proposal.max_per_img=200', 'model.train_cfg.rcnn.sampler.num=64',
    'default_hooks.logger.interval=1',
]


@pytest.mark.slow   # the main config's steps are covered fast by tests/configs/test_configs.py
def test_main_config_trains_on_cpu(coco_data, tmp_path, capsys, monkeypatch):
    # its AmpOptimWrapper on a CPU without bf16 units: fp32, with a note
    monkeypatch.setattr('pennfudan_vit.engine.mixed_precision.cpu_info',
                        lambda: dict(model='x', cpus=2, bf16=[], int8=[]))
    tool_main('train')([MAIN, '--work-dir', str(tmp_path), '--data-root', str(coco_data),
                        '--input-size', '128', '128', '--cfg-options', *SMALL])
    assert 'mixed precision: none native here, training in fp32' in capsys.readouterr().out
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'precision: fp32; CPU: ' in log
    assert 'Epoch(train) [1][2/2]' in log
    assert (tmp_path / 'epoch_1.pth').exists()


@pytest.fixture(scope='module')
def fixed_batch(coco_data):
    """Two real training images through the main config's pipeline at 128 px."""
    from mmdet.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    from pennfudan_vit.config import load_config, set_input_size
    cfg = load_config(MAIN, data_root=str(coco_data))
    cfg.model.train_cfg.rpn_proposal.max_per_img = 200
    cfg.model.train_cfg.rcnn.sampler.num = 64
    ds_cfg = cfg.train_dataloader.dataset
    # a fixed batch: no random steps, the jitter range replaced by a plain resize
    ds_cfg.pipeline = [dict(t, type='Resize', keep_ratio=True) if t['type'] == 'RandomResize'
                       else t for t in ds_cfg.pipeline
                       if t['type'] not in ('RandomFlip', 'RandomCrop', 'SeedPerSample')]
    set_input_size(cfg, (128, 128))
    ds_cfg.pipeline = [{k: v for k, v in t.items() if k != 'ratio_range'}
                       for t in ds_cfg.pipeline]
    dataset = DATASETS.build(ds_cfg)
    return cfg, pseudo_collate([dataset[0], dataset[1]])


@pytest.mark.slow
def test_main_config_overfits_a_fixed_batch(fixed_batch):
    from mmdet.registry import MODELS
    cfg, batch = fixed_batch
    torch.manual_seed(0)
    cfg.model.backbone.init_cfg = None
    cfg.model.backbone.drop_path_rate = 0.
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.train()
    cfg.optim_wrapper.type = 'OptimWrapper'
    cfg.optim_wrapper.optimizer.lr = 2e-4
    cfg.optim_wrapper.paramwise_cfg.layer_decay_rate = 1.0
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    losses = []
    for _ in range(20):
        out = model.train_step(batch, wrapper)
        losses.append(float(out['loss']))
    first, last = sum(losses[:3]) / 3, sum(losses[-3:]) / 3
    assert last < 0.6 * first, losses
