"""The torch-free parts (evaluation, the deploy runtime and the inference loop) work where
torch, mmengine, mmcv and mmdet are absent."""
import json
import subprocess
import sys

import pytest

SCRIPT = '''
import sys
for name in ('torch', 'torchvision', 'mmengine', 'mmcv', 'mmdet', 'mmpretrain', 'cv2'):
    sys.modules[name] = None  # any import of them now raises ImportError
import numpy as np
import pennfudan_vit.deploy.compare, pennfudan_vit.deploy.metadata, pennfudan_vit.images
import pennfudan_vit.deploy.runtime
from pennfudan_vit.deploy.predict import infer_files
import pennfudan_vit.evaluation as ev
res = ev.bootstrap_coco_metrics(
    {'images': [{'id': 1, 'height': 10, 'width': 10}],
     'annotations': [{'id': 1, 'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 4, 4],
                      'area': 16, 'iscrowd': 0}],
     'categories': [{'id': 1}]},
    [{'image_id': 1, 'category_id': 1, 'bbox': [1, 1, 4, 4], 'score': 0.9}], n=5)
print(round(res.metrics['AP'].point, 6))

class Predictor:  # what OnnxDetector and TorchDetector are to the loop
    class_names, palette = ('pedestrian', ), [(255, 0, 0)]
    def __call__(self, image):
        masks = np.zeros((2, ) + image.shape[:2], bool)
        masks[0, 2:5, 2:6] = True
        return dict(boxes=np.array([[2., 2., 6., 5.], [0., 0., 3., 3.]], np.float32),
                    scores=np.array([0.9, 0.1], np.float32), labels=np.zeros(2, np.int64),
                    masks=masks)

from PIL import Image
Image.fromarray(np.zeros((8, 10, 3), np.uint8)).save(sys.argv[1] + '/a.png')
print(infer_files(Predictor(), [sys.argv[1] + '/a.png'], sys.argv[1] + '/out', 0.5, 'x'))
'''


def test_torch_free_parts_run_without_torch_or_mm_libraries(tmp_path):
    proc = subprocess.run([sys.executable, '-c', SCRIPT, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split('\n')[:2] == ['1.0', '(1, [])']
    pred = json.loads((tmp_path / 'out' / 'preds' / 'a.json').read_text())
    assert pred['scores'] == pytest.approx([0.9]) and pred['bboxes'] == [[2, 2, 6, 5]]
    assert (tmp_path / 'out' / 'vis' / 'a.png').is_file()
