"""A sample's augmentation depends on (seed, epoch, index), not on its worker's age."""
import random

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset

from pennfudan_vit.engine import SeedPerSample


class Draws(Dataset):
    """Each item: the seeding step, then one draw from each RNG (an 'augmentation')."""

    def __init__(self):
        self.seed = SeedPerSample()

    def __len__(self):
        return 6

    def __getitem__(self, idx):
        self.seed.transform(dict(sample_idx=idx))
        return idx, (random.random(), float(np.random.rand()), float(torch.rand(1)))


def epoch_draws(loader, dataset, epoch):
    dataset.seed.set_epoch(7, epoch)
    return {int(i): tuple(float(v) for v in draw) for i, *draw in
            [(b[0][0], b[1][0][0], b[1][1][0], b[1][2][0]) for b in loader]}


def loader(dataset, persistent):
    return DataLoader(dataset, batch_size=1, num_workers=2, persistent_workers=persistent)


def test_persistent_workers_replay_an_epoch_like_fresh_ones():
    ds = Draws()
    long_lived = loader(ds, persistent=True)
    epochs = [epoch_draws(long_lived, ds, e) for e in range(3)]
    ds2 = Draws()
    fresh = epoch_draws(loader(ds2, persistent=True), ds2, 2)  # a resumed run: new workers
    assert fresh == epochs[2]
    assert epochs[0] != epochs[1]                       # new augmentations each epoch
    assert len(set(epochs[0].values())) == 6            # and each sample its own


def test_main_process_stream_is_left_alone():
    torch.manual_seed(3)
    expected = torch.rand(1)
    torch.manual_seed(3)
    SeedPerSample().transform(dict(sample_idx=0))
    assert torch.equal(torch.rand(1), expected)
