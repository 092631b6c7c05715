"""tools/plot_curves.py, tools/qualitative_grid.py and tools/check_env.py, in-process."""
import pytest

from helpers import CPU_CONFIG, tool_main


def test_curves_of_a_training_run(tiny_checkpoint, tmp_path, capsys):
    tool_main('plot_curves')([str(tiny_checkpoint.parent), '--out', str(tmp_path / 'c.png')])
    assert (tmp_path / 'c.png').read_bytes()[:4] == b'\x89PNG'
    assert capsys.readouterr().out == f'[plot_curves] wrote {tmp_path / "c.png"}\n'
    with pytest.raises(SystemExit) as exit_:
        tool_main('plot_curves')([str(tmp_path)])
    assert exit_.value.code == 2 and 'scalars.json' in capsys.readouterr().err


def test_qualitative_grid(tiny_checkpoint, coco_data, tmp_path, capsys):
    grid = tool_main('qualitative_grid')
    grid([CPU_CONFIG, str(tiny_checkpoint), '--data-root', str(coco_data), '--n', '2',
          '--score-thr', '0.0', '--out', str(tmp_path / 'grid.png'), '--device', 'cpu'])
    assert (tmp_path / 'grid.png').read_bytes()[:4] == b'\x89PNG'
    assert capsys.readouterr().out.endswith(f'wrote {tmp_path / "grid.png"}\n')
    with pytest.raises(SystemExit) as exit_:
        grid([CPU_CONFIG, str(tiny_checkpoint), '--n', '0'])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == 'error: --n must be >= 1 and --score-thr in [0, 1]\n'


def test_check_env_passes(capsys):
    tool_main('check_env')([])
    out = capsys.readouterr().out
    assert 'ok  tiny model: MaskRCNN' in out and out.endswith('all checks passed\n')
