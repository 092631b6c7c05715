"""Helpers shared by the tests (importable as `helpers`)."""
import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
CPU_CONFIG = str(ROOT / 'configs' / 'deit-tiny_mrcnn_pennfudan_cpu.py')
# A tiny, deterministic run of the CPU config: 8 train images at 128 px, 2 epochs.
TINY_SIZE = ['--input-size', '128', '128']
TINY_OPTIONS = [
    'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=2',
    'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
    'val_dataloader.dataset.indices=2', 'val_dataloader.num_workers=0',
    'val_dataloader.persistent_workers=False',
    'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
    'train_cfg.max_epochs=2', 'randomness.deterministic=True',
    'default_hooks.logger.interval=1',
]


def tool_main(name: str) -> Callable:
    """``main`` of ``tools/<name>.py``, loaded in-process (tools/ is no package)."""
    path = ROOT / 'tools' / f'{name}.py'
    spec = importlib.util.spec_from_file_location(f'tools_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def run_tool(*args, check=True, timeout=600, env=None):
    """Run a tool as its own process from the repo root: only for what a process shows
    (exit codes of a whole run, signals, distributed runs)."""
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=timeout, env={**os.environ, **(env or {})})
    if check and proc.returncode != 0:
        raise AssertionError(f'{args} failed ({proc.returncode}):\n{proc.stdout[-3000:]}\n'
                             f'{proc.stderr[-5000:]}')
    return proc


def make_det_batch(h: int = 64, w: int = 96, n_img: int = 1, with_gt: bool = True):
    """A data batch as mmdet dataloaders yield it (uint8 images, data samples)."""
    import torch
    from mmdet.structures import DetDataSample
    from mmdet.structures.mask import BitmapMasks
    from mmengine.structures import InstanceData
    g = torch.Generator().manual_seed(0)
    inputs, samples = [], []
    for _ in range(n_img):
        inputs.append(torch.randint(0, 256, (3, h, w), dtype=torch.uint8, generator=g))
        s = DetDataSample(metainfo=dict(img_shape=(h, w), ori_shape=(h, w),
                                        scale_factor=(1., 1.), img_id=0))
        if with_gt:
            masks = torch.zeros(2, h, w, dtype=torch.uint8)
            masks[0, 8:40, 10:30] = 1
            masks[1, 20:60, 50:80] = 1
            gt = InstanceData()
            gt.bboxes = torch.tensor([[10., 8., 30., 40.], [50., 20., 80., 60.]])
            gt.labels = torch.tensor([0, 0])
            gt.masks = BitmapMasks(masks.numpy(), h, w)
            s.gt_instances = gt
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)
