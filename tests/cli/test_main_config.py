"""The main (GPU) config on CPU: a few real training iterations through
tools/train.py, and an overfitting check on one fixed batch."""
import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from helpers import ROOT, run_tool

MAIN = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')
S = '(128,128)'
# ViT-B/16 at 128 px, 4 images, no download (random init), fp32 on CPU
SMALL = [
    'model.backbone.init_cfg=None', 'model.backbone.img_size=128',
    'train_dataloader.dataset.indices=4', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    f'train_dataloader.dataset.pipeline.3.scale={S}',
    f'train_dataloader.dataset.pipeline.4.crop_size={S}',
    f'train_dataloader.dataset.pipeline.6.size={S}',
    'train_cfg.max_epochs=1', 'train_cfg.val_interval=100',
    'model.train_cfg.rpn_proposal.max_per_img=200', 'model.train_cfg.rcnn.sampler.num=64',
    'default_hooks.logger.interval=1',
]


def test_main_config_trains_on_cpu(coco_data, tmp_path):
    proc = run_tool('tools/train.py', MAIN, '--work-dir', tmp_path, '--data-root', coco_data,
                    '--cfg-options', *SMALL)
    assert 'AMP needs a GPU' in proc.stderr  # the config's AmpOptimWrapper falls back
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'Epoch(train) [1][2/2]' in log
    assert (tmp_path / 'epoch_1.pth').exists()


@pytest.fixture(scope='module')
def fixed_batch(coco_data):
    """Two real training images through the main config's pipeline at 128 px."""
    from mmdet.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    from pennfudan_vit.apis import set_data_root
    cfg = Config.fromfile(MAIN)
    cfg.merge_from_dict({o.split('=')[0]: eval(o.split('=')[1]) for o in SMALL
                         if o.startswith(('train_dataloader.dataset.pipeline', 'model.'))
                         and 'init_cfg' not in o})
    set_data_root(cfg, str(coco_data))
    ds_cfg = cfg.train_dataloader.dataset
    ds_cfg.pipeline = [t for t in ds_cfg.pipeline
                       if t['type'] not in ('RandomFlip', 'RandomResize', 'RandomCrop')]
    ds_cfg.pipeline.insert(2, dict(type='Resize', scale=(128, 128), keep_ratio=True))
    dataset = DATASETS.build(ds_cfg)
    return cfg, pseudo_collate([dataset[0], dataset[1]])


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
