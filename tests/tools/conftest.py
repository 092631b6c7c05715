"""The check of a tool's one-line error (the tiny trained model: tests/conftest.py)."""

import pytest


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
