"""All-or-nothing output: stage next to the destination, then rename.

Every output (file, folder or symlink) is first created under a hidden
temporary name in its destination folder. Only :meth:`AtomicOutput.commit`
renames them into place, so a failure before that leaves existing outputs
untouched and removes everything staged (and folders created for it).
"""
from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path


def _is_real_dir(path: Path) -> bool:
    return path.is_dir() and not path.is_symlink()


def _remove(path: Path) -> None:
    if _is_real_dir(path):
        shutil.rmtree(path)
    elif os.path.lexists(path):
        path.unlink()


class AtomicOutput:
    """Collects staged outputs; use as a context manager.

    Leaving the ``with`` block by an exception (or without :meth:`commit`)
    discards everything staged.
    """

    def __init__(self) -> None:
        self._staged: list[tuple[Path, Path]] = []
        self._created_dirs: list[Path] = []
        self._obsolete: list[Path] = []
        self._committed = False

    def _mkdir(self, folder: Path) -> None:
        """Create ``folder`` and parents, remembering them for cleanup."""
        missing = []
        while not folder.exists():
            missing.append(folder)
            folder = folder.parent
        for path in reversed(missing):
            path.mkdir()
            self._created_dirs.append(path)

    def _temp_path(self, final: Path) -> Path:
        self._mkdir(final.parent)
        return final.with_name(f'.{final.name}.{secrets.token_hex(4)}.tmp')

    def write_bytes(self, final: Path, data: bytes) -> None:
        """Stage ``data`` as the content of ``final``."""
        tmp = self._temp_path(final)
        self._staged.append((tmp, final))
        with open(tmp, 'xb') as f:
            f.write(data)

    def make_dir(self, final: Path) -> Path:
        """Stage an empty folder for ``final``; the caller fills it."""
        tmp = self._temp_path(final)
        self._staged.append((tmp, final))
        tmp.mkdir()
        return tmp

    def symlink(self, final: Path, target: Path) -> None:
        """Stage ``final`` as a symlink to ``target``."""
        tmp = self._temp_path(final)
        self._staged.append((tmp, final))
        tmp.symlink_to(target, target_is_directory=True)

    def remove(self, path: Path) -> None:
        """Delete ``path`` (e.g. a stale output) once the commit succeeded."""
        self._obsolete.append(path)

    def commit(self) -> None:
        """Move every staged output into place, replacing existing ones."""
        for tmp, final in self._staged:
            if os.path.lexists(final) and (_is_real_dir(final)
                                           or _is_real_dir(tmp)):
                # rename() cannot swap a folder and a non-folder: park the
                # old one under a temporary name first.
                backup = self._temp_path(final)
                os.rename(final, backup)
                os.rename(tmp, final)
                _remove(backup)
            else:
                os.replace(tmp, final)
        for path in self._obsolete:
            _remove(path)
        self._committed = True

    def discard(self) -> None:
        """Remove staged outputs and the folders created for them."""
        for tmp, _ in self._staged:
            _remove(tmp)
        for folder in reversed(self._created_dirs):
            try:
                folder.rmdir()
            except OSError:  # not empty: holds someone else's files
                pass
        self._staged.clear()
        self._created_dirs.clear()

    def __enter__(self) -> 'AtomicOutput':
        return self

    def __exit__(self, *exc_info) -> None:
        if not self._committed:
            self.discard()
