"""A tiny trained CPU model shared by the tool tests of this folder, and the check of a
tool's one-line error."""

import pytest
import torch

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, tool_main


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory, coco_data):
    """epoch_1.pth of a 1-epoch, 128 px run of the CPU config, trained in this process."""
    work = tmp_path_factory.mktemp('tiny_run')
    before = torch.are_deterministic_algorithms_enabled()
    tool_main('train')([CPU_CONFIG, '--work-dir', str(work), '--data-root', str(coco_data),
                        *TINY_SIZE, '--cfg-options', *TINY_OPTIONS, 'train_cfg.max_epochs=1'])
    torch.use_deterministic_algorithms(before)
    return work / 'epoch_1.pth'


@pytest.fixture()
def one_line_error(capsys):
    """``check(main, argv, expected)``: the tool stops with exit status 2 and one last
    ``error: ...`` line holding ``expected``, without a traceback or a training step."""
    def check(main, argv, expected):
        capsys.readouterr()
        with pytest.raises(SystemExit) as exit_:
            main([str(a) for a in argv])
        out, err = capsys.readouterr()
        assert exit_.value.code == 2, err[-3000:]
        assert 'Traceback' not in err and 'Epoch(train)' not in out + err
        line = err.strip().splitlines()[-1]
        assert line.startswith('error: ') and expected in line, line
        return line
    return check
