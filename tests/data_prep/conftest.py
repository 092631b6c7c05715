"""Fixtures of the converter tests: tiny look-alike datasets, the CLI run in-process,
and a local HTTP server."""
from __future__ import annotations

import contextlib
import io
import socket
import threading
import zipfile
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

WIDTH, HEIGHT = 32, 48


@dataclass
class CliResult:
    code: int
    out: str
    err: str


def run_converter(*args: object) -> CliResult:
    """Run the converter's ``main`` in-process and capture its exit status and output."""
    from data_prep.pennfudan_to_coco import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # usage errors (argparse) and UserError (cli_entry)
            code = exc.code
    return CliResult(code, out.getvalue(), err.getvalue())


@pytest.fixture(scope='session')
def cli():
    """``cli(*args) -> CliResult``."""
    return run_converter


def _instance_mask(rng: np.random.Generator, count: int) -> np.ndarray:
    """An (H, W) uint8 mask with ``count`` non-overlapping irregular blobs, ids 1..count."""
    mask = np.zeros((HEIGHT, WIDTH), np.uint8)
    strip = WIDTH // 3
    yy, xx = np.mgrid[:HEIGHT, :WIDTH]
    for k in range(count):
        x0 = k * strip + int(rng.integers(0, 2))
        w = int(rng.integers(4, strip - 1))
        y0 = int(rng.integers(0, HEIGHT // 3))
        h = int(rng.integers(HEIGHT // 3, HEIGHT - y0))
        blob = ((xx - x0 - w / 2) / (w / 2))**2 + ((yy - y0 - h / 2) / (h / 2))**2 <= 1
        mask[blob & (xx >= x0) & (xx < x0 + w)] = k + 1
    return mask


def _pascal_text(name: str, mask: np.ndarray) -> str:
    """PASCAL v1.00 annotation text with the mask's boxes (1-based), like the original."""
    ids = [i for i in np.unique(mask).tolist() if i]
    lines = [
        '# Compatible with PASCAL Annotation Version 1.00',
        f'Image filename : "PennFudanPed/PNGImages/{name}.png"',
        f'Image size (X x Y x C) : {WIDTH} x {HEIGHT} x 3',
        f'Objects with ground truth : {len(ids)} '
        '{ ' + ' '.join(['"PASpersonWalking"'] * len(ids)) + ' }',
        '# Top left pixel co-ordinates : (1, 1)',
    ]
    for i in ids:
        ys, xs = np.nonzero(mask == i)
        lines += [
            f'# Details for pedestrian {i} ("PASpersonWalking")',
            f'Bounding box for object {i} "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) : '
            f'({xs.min() + 1}, {ys.min() + 1}) - ({xs.max() + 1}, {ys.max() + 1})',
            f'Pixel mask for object {i} "PASpersonWalking" : '
            f'"PennFudanPed/PedMasks/{name}_mask.png"',
            '',
        ]
    return '\n'.join(lines) + '\n'


def make_dataset(root: Path, n_fudan: int = 8, n_penn: int = 10, seed: int = 123) -> Path:
    """Write a tiny Penn-Fudan look-alike into ``root`` and return it.

    Image ``i`` has ``1 + i % 3`` pedestrians; in images with several, the
    last one is listed in ``added-object-list.txt``.
    """
    rng = np.random.default_rng(seed)
    for sub in ('PNGImages', 'PedMasks', 'Annotation'):
        (root / sub).mkdir(parents=True)
    names = [f'FudanPed{i:05d}' for i in range(1, n_fudan + 1)] + \
        [f'PennPed{i:05d}' for i in range(1, n_penn + 1)]
    added = ['# image name (\\t) object index']
    for i, name in enumerate(names):
        pixels = rng.integers(0, 256, (HEIGHT, WIDTH, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(root / 'PNGImages' / f'{name}.png')
        mask = _instance_mask(rng, 1 + i % 3)
        Image.fromarray(mask).save(root / 'PedMasks' / f'{name}_mask.png')
        (root / 'Annotation' / f'{name}.txt').write_text(_pascal_text(name, mask))
        if mask.max() > 1:
            added.append(f'{name}.png\t{mask.max()}')
    (root / 'added-object-list.txt').write_text('\n'.join(added) + '\n')
    (root / 'readme.txt').write_text('Penn-Fudan look-alike for tests\n')
    return root


def zip_dataset(root: Path, zip_path: Path) -> Path:
    """Zip ``root`` under a top folder ``PennFudanPed/``, like the official zip."""
    with zipfile.ZipFile(zip_path, 'w', zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(root.rglob('*')):
            zf.write(path, f'PennFudanPed/{path.relative_to(root).as_posix()}')
    return zip_path


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    """A fresh tiny dataset folder (8 Fudan + 10 Penn images, 36 pedestrians)."""
    return make_dataset(tmp_path / 'PennFudanPed')


@pytest.fixture
def tiny_zip(tiny: Path, tmp_path: Path) -> Path:
    """The tiny dataset as a zip, beside its folder."""
    return zip_dataset(tiny, tmp_path / 'PennFudanPed.zip')


class _Handler(BaseHTTPRequestHandler):
    """Serves ``server.payload``; with ``server.truncate`` only half of it, then hangs up."""

    timeout = 10

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        self.server.requests += 1
        body = self.server.payload
        self.send_response(200)
        self.send_header('Content-Type', 'application/zip')
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body[:len(body) // 2] if self.server.truncate else body)


@pytest.fixture
def http_server():
    """``serve(payload, truncate=False) -> url`` on 127.0.0.1; ``serve.server.requests``."""
    servers = []

    def serve(payload: bytes, truncate: bool = False) -> str:
        server = ThreadingHTTPServer(('127.0.0.1', 0), _Handler)
        server.daemon_threads = True
        server.payload, server.truncate, server.requests = payload, truncate, 0
        thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05},
                                  daemon=True)
        thread.start()
        servers.append((server, thread))
        serve.server = server
        return f'http://127.0.0.1:{server.server_address[1]}/PennFudanPed.zip'

    yield serve
    for server, thread in servers:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def closed_port_url() -> str:
    """A URL on a local port nobody listens on (connection refused)."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/PennFudanPed.zip'
