"""A tiny trained CPU model shared by the tool tests of this folder."""
import pytest

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, run_tool


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory, coco_data):
    """epoch_1.pth of a 1-epoch, 128 px run of the CPU config."""
    work = tmp_path_factory.mktemp('tiny_run')
    run_tool('tools/train.py', CPU_CONFIG, '--work-dir', work, '--data-root', coco_data,
             *TINY_SIZE, '--cfg-options', *TINY_OPTIONS, 'train_cfg.max_epochs=1')
    return work / 'epoch_1.pth'
