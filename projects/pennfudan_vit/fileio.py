"""Atomic writes (a reader sees the old file or the whole new one, never a part), and
reading a JSON file the user gave."""
import errno
import json
import os
import os.path as osp
import tempfile
from typing import IO, Any, Callable, Union

from .errors import UserError


def atomic_write(path: str, write: Callable[[IO[bytes]], None], size: int = 0) -> str:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync, then rename. A full
    disk is the user's to fix: one :class:`UserError` naming the folder (and ``size``)."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; outputs are for everyone
        os.replace(tmp, path)
    except BaseException as err:
        if osp.exists(tmp):
            os.remove(tmp)
        if isinstance(err, OSError) and err.errno in (errno.ENOSPC, errno.EDQUOT):
            need = f' ({size / 2**20:.1f} MiB)' if size >= 2**20 else ''
            raise UserError(f'no space left in {folder} to write {osp.basename(path)}{need}: '
                            'free some space there or write elsewhere') from None
        raise
    return path


def atomic_write_bytes(path: str, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(data), len(data))


def atomic_write_text(path: str, text: str) -> str:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write_bytes(path, text.encode('utf-8'))


def atomic_write_json(path: str, obj: Any) -> str:
    """Write ``obj`` as indented, key-sorted JSON to ``path`` atomically."""
    return atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True) + '\n')


def read_json(path: Union[str, os.PathLike], what: str = 'JSON', hint: str = '') -> Any:
    """Load a JSON file the user gave; any failure is a :class:`UserError` naming it
    (and ending in ``hint``, the way to fix it)."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise UserError(f'{path}: {what} file not found{hint}')
    if os.path.isdir(path):
        raise UserError(f'{path}: expected a {what} JSON file, got a directory{hint}')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise UserError(f'{path}: {what} file is not valid JSON ({e}){hint}') from None
    except (OSError, UnicodeDecodeError) as e:
        raise UserError(f'{path}: cannot read {what} file ({e}){hint}') from None
