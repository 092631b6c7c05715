"""pennfudan_vit.evaluation works where torch / mmengine / mmcv / mmdet are absent."""
import os
import subprocess
import sys
from pathlib import Path

PROJECTS = Path(__file__).resolve().parents[2] / 'projects'

SCRIPT = '''
import sys
for name in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet', 'mmpretrain'):
    sys.modules[name] = None  # any import of them now raises ImportError
import pennfudan_vit.evaluation as ev
res = ev.bootstrap_coco_metrics(
    {'images': [{'id': 1, 'height': 10, 'width': 10}],
     'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 4, 4],
                      'area': 16, 'iscrowd': 0}],
     'categories': [{'id': 1}]},
    [{'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 4, 4], 'score': 0.9}], n=5)
print(round(res.metrics['AP'].point, 6))
'''


def test_imports_without_torch_or_mm_libraries():
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        [str(PROJECTS)] + [p for p in [os.environ.get('PYTHONPATH')] if p]))
    proc = subprocess.run([sys.executable, '-c', SCRIPT], capture_output=True, text=True,
                          env=env, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == '1.0'
