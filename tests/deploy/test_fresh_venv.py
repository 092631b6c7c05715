"""tools/infer_onnx.py in a new virtual environment holding only requirements/deploy.txt and
the plugin (no torch, no mmcv) predicts on real images what the PyTorch model predicts."""
import json
import shutil
import subprocess
import sys

import pytest

from deploy_helpers import assert_same_detections
from helpers import ROOT
from pennfudan_vit.deploy.image_ops import load_image

pytestmark = pytest.mark.slow  # installs packages from the package index


@pytest.fixture(scope='module')
def deploy_venv(tmp_path_factory):
    """A venv with the runtime's requirements from the package index, then the plugin as
    docs/deploy.md installs it (``pip install --no-deps .``, from a copy of the sources)."""
    tmp = tmp_path_factory.mktemp('deploy_venv')
    venv, src = tmp / 'venv', tmp / 'src'
    for name in ('projects', 'data_prep'):
        shutil.copytree(ROOT / name, src / name,
                        ignore=shutil.ignore_patterns('__pycache__', '*.egg-info'))
    for name in ('pyproject.toml', 'README.md'):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, timeout=120)
    py = venv / 'bin' / 'python'
    for args in (['-r', str(ROOT / 'requirements' / 'deploy.txt')], ['--no-deps', str(src)]):
        proc = subprocess.run([str(py), '-m', 'pip', 'install', '-q',
                               '--disable-pip-version-check', *args],
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr[-3000:]
    return py


def run_in(py, *args):
    env = {'PATH': '/usr/bin:/bin', 'HOME': str(py.parents[2])}  # nothing of the project venv
    return subprocess.run([str(py), *map(str, args)], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)


def test_venv_has_no_torch(deploy_venv):
    for name in ('torch', 'mmcv', 'mmdet', 'mmengine', 'cv2'):
        proc = run_in(deploy_venv, '-c', f'import {name}')
        assert proc.returncode != 0, f'{name} is importable in the deploy venv'


def test_infer_onnx_matches_pytorch(deploy_venv, cpu_onnx, cpu_reference, real_images,
                                    image_folder, tmp_path):
    out = tmp_path / 'out'
    proc = run_in(deploy_venv, 'tools/infer_onnx.py', cpu_onnx, image_folder, '--out-dir', out,
                  '--score-thr', '0.3')
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert 'bad.png' in proc.stderr.strip().splitlines()[-1]
    for path in real_images:
        assert (out / 'vis' / path.name).stat().st_size > 0
        assert_same_detections(out / 'preds' / f'{path.stem}.json',
                               cpu_reference(load_image(str(path))), 0.3)


def test_coco_results(deploy_venv, cpu_onnx, real_images, tmp_path):
    gt = dict(images=[dict(id=i + 7, file_name=p.name, height=1, width=1)
                      for i, p in enumerate(real_images)],
              categories=[dict(id=1, name='pedestrian')], annotations=[])
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    proc = run_in(deploy_venv, 'tools/infer_onnx.py', cpu_onnx, '--coco', tmp_path / 'gt.json',
                  '--images', real_images[0].parent, '--out-dir', tmp_path, '--prefix', 'onnx')
    assert proc.returncode == 0, proc.stderr[-3000:]
    bbox = json.loads((tmp_path / 'onnx.bbox.json').read_text())
    assert bbox and {d['image_id'] for d in bbox} == {7, 8}
