"""Atomic writes: whole files or none, and a full disk named in one line."""
import errno
import os

import pytest

from pennfudan_vit.errors import UserError
from pennfudan_vit.fileio import atomic_write_bytes, atomic_write_json


def test_a_full_disk_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):
    atomic_write_json(str(tmp_path / 'old.json'), {'a': 1})

    def full(fd):
        raise OSError(errno.ENOSPC, 'No space left on device')

    monkeypatch.setattr(os, 'fsync', full)
    with pytest.raises(UserError) as err:
        atomic_write_bytes(str(tmp_path / 'epoch_1.pth'), b'x' * 3 * 2**20)
    assert str(err.value) == (f'no space left in {tmp_path} to write epoch_1.pth (3.0 MiB): '
                              'free some space there or write elsewhere')
    with pytest.raises(UserError, match='to write old.json:'):
        atomic_write_json(str(tmp_path / 'old.json'), {'a': 2})
    assert sorted(p.name for p in tmp_path.iterdir()) == ['old.json']  # no temporary left
    assert (tmp_path / 'old.json').read_text() == '{\n  "a": 1\n}\n'


def test_other_os_errors_keep_their_traceback(tmp_path, monkeypatch):
    def broken(fd):
        raise OSError(errno.EIO, 'I/O error')

    monkeypatch.setattr(os, 'fsync', broken)
    with pytest.raises(OSError, match='I/O error'):
        atomic_write_bytes(str(tmp_path / 'f.bin'), b'x')
    assert list(tmp_path.iterdir()) == []
