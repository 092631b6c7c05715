"""Read-only access to a Penn-Fudan copy: an extracted folder or the zip.

The converter reads the same relative paths (``PNGImages/x.png``,
``PedMasks/x_mask.png``, ...) from either form, so the rest of the code does
not care where the data lives.
"""
from __future__ import annotations

import zipfile
from abc import ABCMeta, abstractmethod
from pathlib import Path, PurePosixPath

from .errors import ConversionError

#: Folders without which a copy is not Penn-Fudan.
REQUIRED_DIRS = ('PNGImages', 'PedMasks')


class DatasetSource(metaclass=ABCMeta):
    """Files of one Penn-Fudan copy, by POSIX paths below its root."""

    @abstractmethod
    def list_dir(self, rel: str) -> tuple[list[str], list[str]]:
        """Return ``(files, subfolders)`` names directly in ``rel``, sorted."""

    @abstractmethod
    def exists(self, rel: str) -> bool:
        """Whether the file ``rel`` exists."""

    @abstractmethod
    def is_dir(self, rel: str) -> bool:
        """Whether the folder ``rel`` exists."""

    @abstractmethod
    def read_bytes(self, rel: str) -> bytes:
        """Return the content of file ``rel``."""

    @abstractmethod
    def describe(self, rel: str) -> str:
        """Name ``rel`` for messages, so users can find the file."""

    @property
    def images_dir(self) -> Path | None:
        """The ``PNGImages`` folder on disk; None if images must be copied."""
        return None

    def close(self) -> None:
        """Release open handles (the zip file)."""

    def __enter__(self) -> 'DatasetSource':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


class FolderSource(DatasetSource):
    """An extracted ``PennFudanPed/`` folder."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def list_dir(self, rel: str) -> tuple[list[str], list[str]]:
        files, dirs = [], []
        for entry in (self.root / rel).iterdir():
            (dirs if entry.is_dir() else files).append(entry.name)
        return sorted(files), sorted(dirs)

    def exists(self, rel: str) -> bool:
        return (self.root / rel).is_file()

    def is_dir(self, rel: str) -> bool:
        return (self.root / rel).is_dir()

    def read_bytes(self, rel: str) -> bytes:
        try:
            return (self.root / rel).read_bytes()
        except OSError as exc:
            raise ConversionError(
                f'{self.describe(rel)}: cannot read ({exc.strerror})'
            ) from None

    def describe(self, rel: str) -> str:
        return str(self.root / rel)

    @property
    def images_dir(self) -> Path:
        return (self.root / 'PNGImages').resolve()


class ZipSource(DatasetSource):
    """The official ``PennFudanPed.zip`` (or any zip holding one copy)."""

    def __init__(self, path: Path, archive: zipfile.ZipFile,
                 prefix: str) -> None:
        self.path = path
        self.archive = archive
        self.prefix = prefix
        self._members = {
            info.filename.rstrip('/'): info
            for info in archive.infolist() if info.filename.startswith(prefix)
        }

    def _parts_below(self, rel: str) -> dict[str, bool]:
        """Map each direct child name of ``rel`` to whether it is a folder."""
        base = self.prefix + rel.strip('/') + '/'
        children: dict[str, bool] = {}
        for name, info in self._members.items():
            if not name.startswith(base) or name == base.rstrip('/'):
                continue
            head, sep, _ = name[len(base):].partition('/')
            children[head] = children.get(head, False) or bool(sep) \
                or info.is_dir()
        return children

    def list_dir(self, rel: str) -> tuple[list[str], list[str]]:
        children = self._parts_below(rel)
        files = sorted(n for n, is_dir in children.items() if not is_dir)
        dirs = sorted(n for n, is_dir in children.items() if is_dir)
        return files, dirs

    def exists(self, rel: str) -> bool:
        info = self._members.get(self.prefix + rel)
        return info is not None and not info.is_dir()

    def is_dir(self, rel: str) -> bool:
        info = self._members.get(self.prefix + rel)
        return (info is not None and info.is_dir()) or bool(
            self._parts_below(rel))

    def read_bytes(self, rel: str) -> bytes:
        try:
            return self.archive.read(self.prefix + rel)
        except (zipfile.BadZipFile, OSError, EOFError, KeyError) as exc:
            raise ConversionError(
                f'{self.describe(rel)}: cannot read from the zip ({exc})'
            ) from None

    def describe(self, rel: str) -> str:
        return f'{self.path}:{self.prefix}{rel}'

    def close(self) -> None:
        self.archive.close()


def _find_root_in_zip(names: list[str]) -> str | None:
    """Return the member prefix under which PNGImages/ and PedMasks/ live."""
    roots = set()
    for name in names:
        parts = PurePosixPath(name).parts
        roots.update('/'.join(parts[:i]) for i, part in enumerate(parts)
                     if part == REQUIRED_DIRS[0])
    for root in sorted(roots, key=lambda r: (r.count('/'), r)):
        prefix = root + '/' if root else ''
        if all(
                any(n.startswith(f'{prefix}{d}/') for n in names)
                for d in REQUIRED_DIRS):
            return prefix
    return None


def _not_pennfudan(where: Path, detail: str) -> ConversionError:
    return ConversionError(
        f'{where} is not a Penn-Fudan dataset: {detail} (expected the '
        f'PNGImages/, PedMasks/ and Annotation/ folders of PennFudanPed.zip)')


def open_source(path: Path) -> DatasetSource:
    """Open ``path`` (a ``PennFudanPed/`` folder, its parent, or the zip).

    Raises:
        ConversionError: if ``path`` is missing or holds no Penn-Fudan copy.
    """
    if not path.exists():
        raise ConversionError(f'--src {path}: no such file or folder')
    if path.is_dir():
        for root in (path, path / 'PennFudanPed'):
            if all((root / d).is_dir() for d in REQUIRED_DIRS):
                return FolderSource(root)
        missing = [d for d in REQUIRED_DIRS if not (path / d).is_dir()]
        raise _not_pennfudan(path, f'no {"/ or ".join(missing)}/ folder')
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == '.zip':
            raise ConversionError(f'{path}: corrupt or truncated zip archive')
        raise ConversionError(
            f'--src {path}: neither a folder nor a zip archive')
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise ConversionError(f'{path}: corrupt zip archive ({exc})') from None
    prefix = _find_root_in_zip(archive.namelist())
    if prefix is None:
        archive.close()
        raise _not_pennfudan(path, 'no PNGImages/ and PedMasks/ in the zip')
    return ZipSource(path, archive, prefix)
