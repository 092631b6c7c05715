"""How each step is launched, and a failed step reported."""
import sys

import pytest

from pennfudan_vit.cross_val import launch_cmd, run_step
from pennfudan_vit.errors import UserError


def test_launch_commands(monkeypatch):
    args = ['cfg.py', '--work-dir', 'w']
    assert launch_cmd('/t', 'train.py', args, 'none', 1) == [sys.executable, '/t/train.py', *args]
    assert launch_cmd('/t', 'test.py', args, 'pytorch', 4) == [
        'bash', '/t/torchrun.sh', '4', '/t/test.py', *args, '--launcher', 'pytorch']
    monkeypatch.setenv('PARTITION', 'gpu')
    monkeypatch.setenv('SRUN_ARGS', '--time=1:00:00')
    monkeypatch.delenv('GPUS_PER_NODE', raising=False)
    cmd = launch_cmd('/t', 'train.py', args, 'slurm', 2, 'cv-fold0')
    assert cmd[:4] == ['srun', '-p', 'gpu', '--job-name=cv-fold0']
    assert '--gres=gpu:2' in cmd and '--ntasks=2' in cmd and '--time=1:00:00' in cmd
    assert cmd[-8:] == [sys.executable, '-u', '/t/train.py', *args, '--launcher', 'slurm']


def test_failed_step_is_one_resumable_line(capsys):
    run_step([sys.executable, '-c', 'pass'], 'fold 0: nothing')
    assert '[cross_val] fold 0: nothing: ' in capsys.readouterr().out
    with pytest.raises(UserError, match=r'fold 1: training failed \(exit code 3;.*resumes'):
        run_step([sys.executable, '-c', 'raise SystemExit(3)'], 'fold 1: training')
