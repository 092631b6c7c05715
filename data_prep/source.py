"""Where Penn-Fudan comes from: a given path, ``$PENNFUDAN_SRC``, the repository's
``data/`` folder, or a checked download of the official zip."""
from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
import zipfile
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from pennfudan_vit.errors import UserError
from pennfudan_vit.fileio import atomic_write

ENV_VAR = 'PENNFUDAN_SRC'
OFFICIAL_URL = 'https://www.cis.upenn.edu/~jshi/ped_html/PennFudanPed.zip'
# The md5 that ContinualAI/avalanche publishes for OFFICIAL_URL, in
# avalanche/benchmarks/datasets/penn_fudan/penn_fudan_data.py.
OFFICIAL_MD5 = '5aaa3dee905cef73325923716e38fc6d'
ZIP_NAME = 'PennFudanPed.zip'
DATA_DIR = Path(__file__).resolve().parents[1] / 'data'
_FIX = f'download {ZIP_NAME} by other means and set {ENV_VAR}=/path/to/{ZIP_NAME} (or pass --src)'


def _cannot(url: str, reason: object) -> UserError:
    return UserError(f'cannot download {url}: {reason}; check the network, or {_FIX}')


def download(url: str, dest: Path, md5: str | None = None, timeout: float = 30.0) -> Path:
    """Download ``url`` to ``dest`` with a progress bar, writing it only once it checks out."""
    from tqdm import tqdm

    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        response = urlopen(Request(url, headers={'User-Agent': 'pennfudan-vit'}), timeout=timeout)
    except HTTPError as exc:
        exc.close()
        raise _cannot(url, f'HTTP {exc.code} {exc.reason}') from None
    except (URLError, HTTPException, OSError) as exc:
        raise _cannot(url, getattr(exc, 'reason', exc)) from None
    # An anonymous temporary file disappears by itself, whatever interrupts the download.
    with response, tempfile.TemporaryFile(dir=dest.parent) as tmp:
        length = response.headers.get('Content-Length')
        total, digest = (int(length) if length and length.isdigit() else None), hashlib.md5()
        try:
            with tqdm(total=total, unit='B', unit_scale=True, unit_divisor=1024,
                      desc=dest.name) as bar:
                while chunk := response.read(1 << 16):
                    tmp.write(chunk)
                    digest.update(chunk)
                    bar.update(len(chunk))
        except (HTTPException, OSError) as exc:
            raise _cannot(url, f'interrupted after {tmp.tell()} bytes ({exc!r})') from None
        if total is not None and tmp.tell() != total:
            raise _cannot(url, f'interrupted after {tmp.tell()} of {total} bytes')
        if md5 is not None and digest.hexdigest() != md5:
            raise UserError(f'{url}: the download has md5 {digest.hexdigest()}, not the published '
                            f'{md5} (corrupt, or changed upstream); {_FIX}')
        try:
            with zipfile.ZipFile(tmp) as archive:
                corrupt = archive.testzip()
        except zipfile.BadZipFile:
            raise UserError(f'{url} did not return a zip archive; {_FIX}') from None
        if corrupt is not None:
            raise UserError(f'{url}: {corrupt} fails its CRC check in the download; {_FIX}')
        tmp.seek(0)
        atomic_write(str(dest), lambda f: shutil.copyfileobj(tmp, f))
    return dest


def fetch_zip(url: str, dest: Path) -> Path:
    """Return ``dest``, downloading ``url`` first if it is missing (md5 of the official zip)."""
    if not dest.is_file():  # mirrors have no known checksum: checked as intact zips only
        download(url, dest, md5=OFFICIAL_MD5 if url == OFFICIAL_URL else None)
    return dest


def resolve_source(explicit: str | os.PathLike | None = None, url: str = OFFICIAL_URL) -> Path:
    """Penn-Fudan's location: ``explicit``, ``$PENNFUDAN_SRC``, ``data/`` or a download.

    The repository's ``data/PennFudanPed/`` comes before ``data/PennFudanPed.zip``
    (a folder needs no extraction); the download goes to the latter. One line on
    stderr says which and why.
    """
    env = os.environ.get(ENV_VAR)
    if explicit is not None:
        path, why = Path(explicit), 'from --src'
        if not path.exists():
            raise UserError(f'--src {explicit}: no such file or folder')
    elif env:
        path, why = Path(env).expanduser(), f'from ${ENV_VAR}'
        if not path.exists():
            raise UserError(f'{ENV_VAR}={env}: no such file or folder; set it to the PennFudanPed '
                            f'folder or {ZIP_NAME}, or unset it')
    else:
        folder, archive = DATA_DIR / 'PennFudanPed', DATA_DIR / ZIP_NAME
        path = folder if folder.exists() else archive
        why = f'found in the repository; no --src or ${ENV_VAR} given'
        if not path.exists():
            path = fetch_zip(url, archive)
            why = f'downloaded from {url}: no --src, ${ENV_VAR} or data/PennFudanPed(.zip)'
    print(f'dataset: {path} ({why})', file=sys.stderr)
    return path
