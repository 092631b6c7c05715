"""Work dirs: resume picks the newest readable checkpoint, a second trainer is refused."""
import os
import shutil
import subprocess
import sys

import pytest
import torch

from pennfudan_vit.engine.work_dir import (guard_work_dir, lock_work_dir, resume_checkpoint,
                                           unlock_work_dir)
from pennfudan_vit.errors import UserError


def save(path, value):
    torch.save({'state_dict': {'w': torch.tensor([value])}}, path)
    return path


def test_resume_takes_last_checkpoint_and_skips_damaged_ones(tmp_path, capsys):
    e1, e2, e3 = (save(tmp_path / f'epoch_{i}.pth', i) for i in (1, 2, 3))
    assert resume_checkpoint(str(tmp_path)) == str(e3)
    (tmp_path / 'last_checkpoint').write_text(str(e2))
    assert resume_checkpoint(str(tmp_path)) == str(e2)
    e2.write_bytes(e2.read_bytes()[:100])
    assert resume_checkpoint(str(tmp_path)) == str(e3)
    e3.write_bytes(b'')
    assert resume_checkpoint(str(tmp_path)) == str(e1)
    err = capsys.readouterr().err.splitlines()  # one line per damaged file, each time
    assert err == [f'warning: --resume skips damaged checkpoint {e2}'] * 2 + [
        f'warning: --resume skips damaged checkpoint {e3}']


def test_a_copied_work_dir_resumes_from_its_own_checkpoint(tmp_path):
    """mmengine's pointer holds the original folder's absolute path."""
    original, copy = tmp_path / 'original', tmp_path / 'copy'
    original.mkdir()
    save(original / 'epoch_1.pth', 1)
    save(original / 'epoch_2.pth', 2)
    (original / 'last_checkpoint').write_text(str(original / 'epoch_1.pth'))
    shutil.copytree(original, copy)
    assert resume_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')
    shutil.rmtree(original)
    assert resume_checkpoint(str(copy)) == str(copy / 'epoch_1.pth')


def test_resume_without_checkpoints_is_an_error(tmp_path):
    with pytest.raises(UserError, match='no checkpoint to resume from'):
        resume_checkpoint(str(tmp_path / 'missing'))


def test_guard_refuses_a_fresh_run_over_checkpoints(tmp_path):
    guard_work_dir(str(tmp_path), resume=False)
    save(tmp_path / 'epoch_1.pth', 1)
    with pytest.raises(UserError, match='pass --resume'):
        guard_work_dir(str(tmp_path), resume=False)
    guard_work_dir(str(tmp_path), resume=True)


def test_lock_refuses_a_second_holder_until_it_ends(tmp_path):
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import sys, time; from pennfudan_vit.engine import '
         'lock_work_dir; lock_work_dir(sys.argv[1]); print("locked", flush=True); '
         'time.sleep(60)', str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        with pytest.raises(UserError, match=f'in use by a training run \\(pid {holder.pid}\\)'):
            lock_work_dir(str(tmp_path))
    finally:
        holder.kill()
        holder.wait()
    lock_work_dir(str(tmp_path))  # the holder is gone: free again
    probe = [sys.executable, '-c', 'import fcntl, sys; fcntl.lockf(open(sys.argv[1], "a"), '
             'fcntl.LOCK_EX | fcntl.LOCK_NB)', str(tmp_path / '.lock')]
    assert subprocess.run(probe, capture_output=True).returncode != 0  # held here
    unlock_work_dir(str(tmp_path))
    subprocess.run(probe, check=True)  # released
    # (read only now: closing any handle of the file releases this process's lock)
    assert (tmp_path / '.lock').read_text() == f'pid {os.getpid()}\n'
