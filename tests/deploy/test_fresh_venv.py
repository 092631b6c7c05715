"""tools/infer_onnx.py in a new virtual environment holding only requirements/deploy.txt
(no torch, no mmcv) predicts on real images what the PyTorch model predicts."""
import json
import subprocess
import sys

import numpy as np
import pytest
from pycocotools import mask as mask_util

from helpers import ROOT
from pennfudan_vit.deploy.compare import match_predictions


@pytest.fixture(scope='module')
def deploy_venv(tmp_path_factory):
    """A venv with only the runtime's requirements, installed from the package index."""
    venv = tmp_path_factory.mktemp('deploy_venv')
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True, timeout=120)
    py = venv / 'bin' / 'python'
    proc = subprocess.run([str(py), '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
                           '-r', str(ROOT / 'requirements' / 'deploy.txt')],
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
                                    tmp_path):
    folder = real_images[0].parent
    out = tmp_path / 'out'
    proc = run_in(deploy_venv, 'tools/infer_onnx.py', cpu_onnx, folder, '--out-dir', out,
                  '--score-thr', '0.3')
    assert proc.returncode == 0, proc.stderr[-3000:]
    for path in real_images:
        assert (out / 'vis' / path.name).stat().st_size > 0
        pred = json.loads((out / 'preds' / f'{path.stem}.json').read_text())
        assert set(pred) == {'labels', 'scores', 'bboxes', 'masks', 'score_thr', 'image'}
        got = dict(boxes=np.array(pred['bboxes'], np.float32).reshape(-1, 4),
                   scores=np.array(pred['scores']), labels=np.array(pred['labels']),
                   masks=np.stack([mask_util.decode(m) for m in pred['masks']]).astype(bool))
        ref = cpu_reference(str(path))
        keep = ref['scores'] >= 0.3
        stats = match_predictions(got, {k: v[keep] for k, v in ref.items()})
        assert stats['n_test'] == stats['n_ref'] == stats['matched'] > 0, stats
        assert stats['min_box_iou'] > 0.99 and stats['max_score_diff'] < 1e-3, stats
        assert stats['min_mask_iou'] > 0.9, stats


def test_coco_results_match_pytorch(deploy_venv, cpu_onnx, cpu_reference, real_images,
                                    tmp_path):
    from pennfudan_vit.deploy.outputs import coco_results
    gt = dict(images=[dict(id=i + 7, file_name=p.name, height=1, width=1)
                      for i, p in enumerate(real_images)],
              categories=[dict(id=1, name='pedestrian')], annotations=[])
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    ref_bbox = []  # the PyTorch model's results, written as CocoMetric does
    for i, path in enumerate(real_images):
        ref_bbox += coco_results(i + 7, cpu_reference(str(path)), [1])[0]
    (tmp_path / 'torch.bbox.json').write_text(json.dumps(ref_bbox))
    proc = run_in(deploy_venv, 'tools/infer_onnx.py', cpu_onnx, '--coco', tmp_path / 'gt.json',
                  '--images', real_images[0].parent, '--out-dir', tmp_path, '--prefix', 'onnx',
                  '--compare', tmp_path / 'torch')
    assert proc.returncode == 0, proc.stderr[-3000:]
    bbox = json.loads((tmp_path / 'onnx.bbox.json').read_text())
    segm = json.loads((tmp_path / 'onnx.segm.json').read_text())
    assert len(bbox) == len(segm) == len(ref_bbox)
    assert {d['category_id'] for d in bbox} == {1} and {d['image_id'] for d in bbox} == {7, 8}
    line = [ln for ln in proc.stdout.splitlines() if ' vs ' in ln][0]
    stats = dict(kv.rsplit(' ', 1) for kv in line.split(': ', 1)[1].split(', '))
    assert float(stats['matched']) == float(stats['n_ref']) == len(ref_bbox), line
    assert float(stats['min_box_iou']) > 0.99, line


def test_unreadable_image_is_named_and_skipped(deploy_venv, cpu_onnx, real_images, tmp_path):
    folder = tmp_path / 'in'
    folder.mkdir()
    (folder / 'good.png').write_bytes(real_images[0].read_bytes())
    (folder / 'bad.png').write_bytes(b'\x89PNG\r\n\x1a\n truncated')
    proc = run_in(deploy_venv, 'tools/infer_onnx.py', cpu_onnx, folder, '--out-dir',
                  tmp_path / 'out')
    assert proc.returncode == 1
    assert 'bad.png' in proc.stderr and 'good.png' not in proc.stderr
    assert (tmp_path / 'out' / 'preds' / 'good.json').exists()
    assert not (tmp_path / 'out' / 'preds' / 'bad.json').exists()
