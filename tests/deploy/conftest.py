"""Fixtures of the deploy tests: a random-weight checkpoint, its export, real images."""
import contextlib
import io
import shutil
import zipfile
from pathlib import Path

import pytest
import torch

from deploy_helpers import CPU_SIZE, build_random
from helpers import CPU_CONFIG, tool_main


@pytest.fixture(scope='session')
def cpu_checkpoint(tmp_path_factory) -> Path:
    """A checkpoint of the CPU config with random weights, saved as a Runner would."""
    _, model = build_random(CPU_CONFIG)
    path = tmp_path_factory.mktemp('ckpt') / 'cpu_random.pth'
    torch.save(dict(state_dict=model.state_dict(),
                    meta=dict(experiment_name='deit-tiny_mrcnn_pennfudan_cpu_20260101_000000')),
               path)
    return path


@pytest.fixture(scope='session')
def cpu_onnx(tmp_path_factory, cpu_checkpoint) -> Path:
    """``cpu_checkpoint`` exported at 256 px by the command-line tool."""
    out = tmp_path_factory.mktemp('onnx') / 'cpu.onnx'
    with contextlib.redirect_stdout(io.StringIO()) as stdout:
        tool_main('export_onnx')([CPU_CONFIG, str(cpu_checkpoint), '--out', str(out),
                                  '--input-size', *map(str, CPU_SIZE)])
    assert 'count_diff 0' in stdout.getvalue(), stdout.getvalue()
    return out


@pytest.fixture(scope='session')
def cpu_reference(cpu_checkpoint):
    """The PyTorch model of ``cpu_checkpoint`` behind mmdet's test pipeline at 256 px."""
    from pennfudan_vit.config import load_config
    from pennfudan_vit.detector import TorchDetector, load_detector
    cfg = load_config(CPU_CONFIG)
    return TorchDetector(cfg, load_detector(cfg, str(cpu_checkpoint))[0], CPU_SIZE)


@pytest.fixture(scope='session')
def real_images(tmp_path_factory, pennfudan_src) -> list:
    """Two Penn-Fudan images copied to a temporary folder."""
    out = tmp_path_factory.mktemp('images')
    names = ('FudanPed00001.png', 'PennPed00010.png')
    if Path(pennfudan_src).is_dir():
        for name in names:
            shutil.copy(Path(pennfudan_src) / 'PNGImages' / name, out / name)
    else:
        with zipfile.ZipFile(pennfudan_src) as zf:
            members = {Path(m).name: m for m in zf.namelist() if '/PNGImages/' in m}
            for name in names:
                (out / name).write_bytes(zf.read(members[name]))
    return [out / n for n in names]


@pytest.fixture()
def image_folder(tmp_path, real_images) -> Path:
    """A folder of ``real_images`` and a truncated ``bad.png``."""
    folder = tmp_path / 'in'
    folder.mkdir()
    for path in real_images:
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    return folder
