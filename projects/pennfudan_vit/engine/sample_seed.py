"""Data-loading randomness that a resumed run replays exactly.

Data-loader workers draw augmentations from their own RNG streams; with
persistent workers a stream depends on how long its worker has lived, which a
resumed run cannot replay. ``SeedPerSample`` (first pipeline step) reseeds a
worker from (seed, epoch, sample index) before each sample, and
``SampleSeedHook`` tells it the epoch through shared memory that workers see.
A new data-loader iterator also draws its base seed from the global RNG, and a
resumed run creates iterators at other times than an uninterrupted one (persistent
workers are created once), so the hook gives each loader its own generator.
"""
import multiprocessing
import random
from typing import Iterator

import numpy as np
import torch
from mmcv.transforms import BaseTransform
from mmengine.hooks import Hook
from mmdet.registry import HOOKS, TRANSFORMS


@TRANSFORMS.register_module()
class SeedPerSample(BaseTransform):
    """Seed python/numpy/torch in a data-loader worker from (seed, epoch, sample_idx)."""

    def __init__(self) -> None:
        # shared with forked or spawned workers, updated by SampleSeedHook
        self.state = multiprocessing.RawArray('q', 2)

    def set_epoch(self, seed: int, epoch: int) -> None:
        self.state[0], self.state[1] = seed, epoch

    def transform(self, results: dict) -> dict:
        # the main process keeps one stream, restored on resume by RNGStateHook
        if torch.utils.data.get_worker_info() is not None:
            entropy = [int(self.state[0]) & 0xFFFFFFFF, int(self.state[1]),
                       int(results.get('sample_idx', 0))]
            seed = int(np.random.SeedSequence(entropy).generate_state(1)[0])
            random.seed(seed)
            np.random.seed(seed)
            torch.manual_seed(seed)
        return results


def seeders(dataset) -> Iterator[SeedPerSample]:
    """Every ``SeedPerSample`` step in the pipelines of ``dataset`` (and its wrapped ones)."""
    for inner in getattr(dataset, 'datasets', [getattr(dataset, 'dataset', dataset)]):
        if inner is not dataset and (hasattr(inner, 'dataset') or hasattr(inner, 'datasets')):
            yield from seeders(inner)
            continue
        for step in getattr(getattr(inner, 'pipeline', None), 'transforms', []):
            if isinstance(step, SeedPerSample):
                yield step


@HOOKS.register_module()
class SampleSeedHook(Hook):
    """Give every ``SeedPerSample`` of the train pipeline the run's seed and epoch."""

    priority = 'VERY_HIGH'

    def before_train(self, runner) -> None:
        seed = runner.seed if runner.seed is not None else 0
        loaders = [runner.train_dataloader]
        if runner.val_loop is not None and hasattr(runner.val_loop, 'dataloader'):
            loaders.append(runner.val_loop.dataloader)
        for i, loader in enumerate(loaders):
            # keeps iterator creation from consuming the global RNG stream
            loader.generator = torch.Generator().manual_seed(seed + i)

    def before_train_epoch(self, runner) -> None:
        seed = runner.seed if runner.seed is not None else 0
        for step in seeders(runner.train_dataloader.dataset):
            step.set_epoch(seed, runner.epoch)
