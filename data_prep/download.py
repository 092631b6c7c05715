"""Resumable download of ``PennFudanPed.zip`` into a cache folder.

Bytes go to ``<name>.part`` first; a rerun continues it with an HTTP Range
request, and only a complete zip is renamed to its final name. Network
problems become one :class:`ConversionError` message.
"""
from __future__ import annotations

import os
import re
import socket
import zipfile
from http.client import HTTPException
from pathlib import Path
from urllib.error import HTTPError, URLError
from urllib.request import Request, urlopen

from .errors import ConversionError

PENNFUDAN_URL = 'https://www.cis.upenn.edu/~jshi/ped_html/PennFudanPed.zip'


def default_cache_dir() -> Path:
    """``$XDG_CACHE_HOME/pennfudan-vit``, by default ``~/.cache/...``."""
    base = os.environ.get('XDG_CACHE_HOME') or Path.home() / '.cache'
    return Path(base) / 'pennfudan-vit'


def _offline(url: str, reason: object) -> ConversionError:
    return ConversionError(
        f'cannot download {url}: {reason}. Check the network connection, or '
        f'download the zip by other means and pass --src PennFudanPed.zip')


def _range_start_total(content_range: str | None) -> tuple[int, int | None]:
    """Parse ``bytes START-END/TOTAL`` (or ``bytes */TOTAL``)."""
    match = re.match(r'bytes\s+(\d+|\*)(?:-\d+)?/(\d+|\*)', content_range
                     or '')
    if not match:
        return -1, None
    start, total = match.groups()
    return (-1 if start == '*' else int(start),
            None if total == '*' else int(total))


def download(url: str,
             dest: Path,
             timeout: float = 30.0,
             progress: bool = True,
             chunk_size: int = 1 << 16) -> Path:
    """Download ``url`` to ``dest`` unless it is already there.

    Args:
        url: where to fetch the zip.
        dest: final file path; ``dest.part`` holds a partial download.
        timeout: seconds to wait for the server before giving up.
        progress: show a tqdm progress bar on stderr.
        chunk_size: bytes per read.

    Returns:
        ``dest``.

    Raises:
        ConversionError: offline, HTTP error, interrupted transfer (the
            partial file is kept for the next run) or not a zip.
    """
    if dest.is_file():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + '.part')
    offset = part.stat().st_size if part.is_file() else 0
    headers = {'User-Agent': 'pennfudan-vit-data-prep'}
    if offset:
        headers['Range'] = f'bytes={offset}-'
    try:
        response = urlopen(Request(url, headers=headers), timeout=timeout)
    except HTTPError as exc:
        exc.close()
        if exc.code == 416 and offset:
            # Nothing left to send: either the part is complete or stale.
            _, total = _range_start_total(exc.headers.get('Content-Range'))
            if total != offset:
                part.unlink()
                return download(url, dest, timeout, progress, chunk_size)
        else:
            raise _offline(url, f'HTTP {exc.code} {exc.reason}') from None
    except (URLError, HTTPException, OSError) as exc:
        raise _offline(url, getattr(exc, 'reason', exc)) from None
    else:
        with response:
            _receive(response, url, part, offset, progress, chunk_size)
    if not zipfile.is_zipfile(part):
        part.unlink()
        raise ConversionError(
            f'{url} did not return a zip archive (deleted the download)')
    part.replace(dest)
    return dest


def _receive(response, url: str, part: Path, offset: int, progress: bool,
             chunk_size: int) -> None:
    """Append the response body to ``part``, resuming at ``offset``."""
    from tqdm import tqdm

    if offset and response.status == 206:
        start, total = _range_start_total(
            response.headers.get('Content-Range'))
        if start != offset:
            raise _offline(
                url, f'the server resumed at byte {start} instead '
                f'of {offset}')
    else:  # a fresh start, or the server ignored the Range header
        offset = 0
        length = response.headers.get('Content-Length')
        total = int(length) if length and length.isdigit() else None
    received = offset
    try:
        with open(part, 'ab' if offset else 'wb') as f, tqdm(
                total=total,
                initial=offset,
                unit='B',
                unit_scale=True,
                unit_divisor=1024,
                desc=part.name[:-len('.part')],
                disable=not progress) as bar:
            while chunk := response.read(chunk_size):
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    except (HTTPException, OSError, socket.timeout) as exc:
        reason = f'interrupted after {received} bytes ({exc})'
    else:
        if total is None or received == total:
            return
        reason = f'interrupted after {received} of {total} bytes'
    raise ConversionError(
        f'cannot download {url}: {reason}; the partial file {part} is kept '
        f'and the next run with --download resumes it')
