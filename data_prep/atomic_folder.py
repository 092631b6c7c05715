"""Write a whole output folder at once: fill a temporary folder, then rename it."""
from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Callable
from pathlib import Path


def write_folder(dest: Path, fill: Callable[[Path], None]) -> None:
    """Create ``dest`` as ``fill(tmp)`` makes a fresh folder beside it, then rename.

    An existing ``dest`` is moved aside just before the rename and deleted
    after it, so an exception or interrupt at any point leaves either the
    previous folder or the new one, complete, never a mix of both.
    """
    dest = dest.resolve()  # a link to the output folder stays a link
    dest.parent.mkdir(parents=True, exist_ok=True)
    token = secrets.token_hex(4)
    tmp = dest.with_name(f'.{dest.name}.{token}.new')
    old = dest.with_name(f'.{dest.name}.{token}.old')
    tmp.mkdir()
    try:
        fill(tmp)
        if os.path.lexists(dest):
            os.rename(dest, old)
        os.rename(tmp, dest)
    except BaseException:
        if os.path.lexists(old) and not os.path.lexists(dest):
            os.rename(old, dest)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if os.path.lexists(old):
        shutil.rmtree(old)
