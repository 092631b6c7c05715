"""Fixtures of the custom-dataset tests: the synthetic shapes dataset converted by
data_prep/masks_to_coco.py, and a 1-epoch run of the custom config on it."""
import contextlib
import io

import pytest
import torch

from custom_data import CUSTOM_CONFIG, OPTIONS, write_shapes
from helpers import TINY_SIZE, tool_main


@pytest.fixture(scope='session')
def shapes_data(tmp_path_factory):
    """12 images of discs and squares with masks as PNGs, converted to COCO JSON
    (half of them for training, a quarter each for val and test)."""
    from data_prep.masks_to_coco import main
    data = tmp_path_factory.mktemp('shapes') / 'my_dataset'
    write_shapes(data)
    with contextlib.redirect_stdout(io.StringIO()):
        main([str(data), '--ratios', '0.5', '0.25', '0.25'])
    return data


@pytest.fixture(scope='session')
def shapes_checkpoint(tmp_path_factory, shapes_data):
    """The checkpoint of a 1-epoch, 128 px run of the custom config, in-process (no
    validation: the test of it evaluates)."""
    work = tmp_path_factory.mktemp('shapes_run')
    before = torch.are_deterministic_algorithms_enabled()
    tool_main('train')([CUSTOM_CONFIG, '--work-dir', str(work), '--data-root', str(shapes_data),
                        *TINY_SIZE, '--cfg-options', *OPTIONS, 'train_cfg.val_interval=2'])
    torch.use_deterministic_algorithms(before)
    return work / 'epoch_1.pth'
