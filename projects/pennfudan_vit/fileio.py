"""Atomic writes (a reader sees the old file or the whole new one, never a part), and
reading a JSON file the user gave."""
import json
import os
import os.path as osp
import tempfile
from typing import IO, Any, Callable, Union

from .errors import UserError


def atomic_write(path: str, write: Callable[[IO[bytes]], None]) -> str:
    """Call ``write(f)`` on a temporary file beside ``path``, fsync, then rename."""
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
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
    return path


def atomic_write_bytes(path: str, data: bytes) -> str:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda f: f.write(data))


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
