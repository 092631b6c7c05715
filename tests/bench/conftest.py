"""Fixtures of the harness tests: a random-weight checkpoint of the CPU config, and the
check of a one-line user error."""
import pytest
import torch

from helpers import CPU_CONFIG


@pytest.fixture(scope='session')
def cpu_checkpoint(tmp_path_factory):
    """Random weights of the CPU config's model at its own size, saved as a Runner would."""
    from pennfudan_vit.config import load_config
    from pennfudan_vit.detector import load_detector
    torch.manual_seed(0)
    model, _ = load_detector(load_config(CPU_CONFIG))
    path = tmp_path_factory.mktemp('ckpt') / 'cpu_random.pth'
    torch.save(dict(state_dict=model.state_dict(), meta=dict(seed=0)), path)
    return path


@pytest.fixture
def user_error(capsys):
    """``check(main, argv, expected)``: the tool exits with status 2 and one last
    ``error: ...`` line holding ``expected``, without a traceback."""
    def check(main, argv, expected):
        capsys.readouterr()
        with pytest.raises(SystemExit) as stop:
            main([str(a) for a in argv])
        err = capsys.readouterr().err
        assert stop.value.code == 2 and 'Traceback' not in err, err[-2000:]
        assert expected in err.strip().splitlines()[-1], err[-2000:]
    return check
