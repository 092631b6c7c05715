"""The shell launchers pass the right command to srun / torchrun."""
import os
import subprocess

import pytest

from helpers import ROOT


@pytest.fixture()
def fake_srun(tmp_path):
    srun = tmp_path / 'srun'
    srun.write_text('#!/bin/sh\necho "$@"\n')
    srun.chmod(0o755)
    return {**os.environ, 'PATH': f'{tmp_path}:{os.environ["PATH"]}', 'PARTITION': 'gpu'}


@pytest.mark.parametrize('script, args, tail', [
    ('slurm_train.sh', ['cfg.py', 'job', '4', '--amp'], 'tools/train.py cfg.py --amp --launcher slurm'),
    ('slurm_test.sh', ['cfg.py', 'w.pth', 'job', '4', '--out', 'p.pkl'],
     'tools/test.py cfg.py w.pth --out p.pkl --launcher slurm'),
])
def test_slurm_scripts(fake_srun, script, args, tail):
    out = subprocess.run(['bash', f'tools/{script}', *args], cwd=ROOT, env=fake_srun,
                         capture_output=True, text=True, check=True).stdout
    assert out.startswith('-p gpu --job-name=job --gres=gpu:8 --ntasks=4 ')
    assert out.strip().endswith(tail), out


def test_slurm_needs_a_partition(fake_srun):
    env = {k: v for k, v in fake_srun.items() if k != 'PARTITION'}
    proc = subprocess.run(['bash', 'tools/slurm_train.sh', 'cfg.py', 'job', '1'], cwd=ROOT,
                          env=env, capture_output=True, text=True)
    assert proc.returncode != 0 and 'PARTITION' in proc.stderr
