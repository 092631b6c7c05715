"""mmdet's own analysis tools run on our configs through tools/mmdet_tool.sh, with the
data found through $PENNFUDAN_DATA (docs/mmdet_tools.md); the script once as a process,
the other tool runs in this process."""
import json
import os
import re
import runpy
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
from mmengine.config import Config

from helpers import CPU_CONFIG, ROOT

MAIN_CONFIG = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')
TRAIN_IMAGES, VAL_IMAGES = 3, 2


def mmdet_tool(*args, data=None):
    """``bash tools/mmdet_tool.sh ARGS`` with this interpreter, $PENNFUDAN_DATA=data."""
    env = {**os.environ, 'PY': sys.executable}
    if data is not None:
        env['PENNFUDAN_DATA'] = str(data)
    return subprocess.run(['bash', 'tools/mmdet_tool.sh', *map(str, args)], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=600)


def check(proc):
    assert proc.returncode == 0, f'{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}'
    return proc.stdout


@pytest.fixture()
def in_process(monkeypatch, capsys):
    """``run(NAME, *ARGS, data=DIR)``: what mmdet_tool.sh runs (the shallowest
    ``NAME.py`` in mmdet's tools), in this process; returns its stdout."""
    import mmdet

    def run(name, *args, data):
        tools = Path(mmdet.__file__).parent / '.mim' / 'tools'
        path = min(tools.rglob(f'{name}.py'), key=lambda p: len(p.parts))
        monkeypatch.setenv('PENNFUDAN_DATA', str(data))
        monkeypatch.setattr(sys, 'argv', [str(path), *map(str, args)])
        capsys.readouterr()
        runpy.run_path(str(path), run_name='__main__')
        return capsys.readouterr().out
    return run


@pytest.fixture(scope='module')
def small_data(coco_data, tmp_path_factory):
    """A converter output with the first few train and val images only, so a tool
    that ignored $PENNFUDAN_DATA would show more (or fail)."""
    out = tmp_path_factory.mktemp('pennfudan_small')
    (out / 'annotations').mkdir()
    (out / 'PNGImages').symlink_to(coco_data / 'PNGImages')
    for split, n in (('train', TRAIN_IMAGES), ('val', VAL_IMAGES), ('test', VAL_IMAGES)):
        coco = json.loads((coco_data / 'annotations' / f'instances_{split}.json').read_text())
        coco['images'] = coco['images'][:n]
        ids = {im['id'] for im in coco['images']}
        coco['annotations'] = [a for a in coco['annotations'] if a['image_id'] in ids]
        (out / 'annotations' / f'instances_{split}.json').write_text(json.dumps(coco))
    return out


def test_unknown_tool_lists_the_names():
    proc = mmdet_tool('browse_datasets')
    assert proc.returncode == 2
    line, = proc.stderr.strip().splitlines()
    assert line.startswith("error: no mmdet tool named 'browse_datasets'")
    assert {'browse_dataset', 'get_flops', 'print_config', 'analyze_results',
            'coco_error_analysis'} <= set(line.split(': ')[-1].split())


@pytest.mark.parametrize('config, size, script', [
    (CPU_CONFIG, 384, False), (MAIN_CONFIG, 640, False),
    pytest.param(CPU_CONFIG, 384, True, marks=pytest.mark.slow)])
def test_browse_dataset_paints_the_augmented_training_images(small_data, tmp_path, config,
                                                             size, script, in_process):
    args = ('browse_dataset', config, '--not-show', '--output-dir', tmp_path)
    if script:  # as a user runs it
        out = check(mmdet_tool(*args, data=small_data))
        assert f'PENNFUDAN_DATA` with value of {small_data}' in out
    else:
        in_process(*args, data=small_data)
    train = json.loads((small_data / 'annotations' / 'instances_train.json').read_text())
    expected = sorted(os.path.basename(im['file_name']) for im in train['images'])
    assert sorted(p.name for p in tmp_path.iterdir()) == expected
    for name in expected:  # resized/cropped and padded to the config's square input
        assert cv2.imread(str(tmp_path / name)).shape == (size, size, 3)


def _flops(out: str):
    shape = re.search(r'^Input shape: \((\d+), (\d+)\)$', out, re.M)
    flops = re.search(r'^Flops: ([\d.]+)([GT])$', out, re.M)
    params = re.search(r'^Params: (\S+)$', out, re.M)
    assert shape and flops and params, out[-2000:]
    return ((int(shape[1]), int(shape[2])),
            float(flops[1]) * (1000 if flops[2] == 'T' else 1), params[1])


@pytest.mark.slow   # mmdet's get_flops on the main config: the wrapper is covered by the others
def test_get_flops_at_the_config_size_and_a_smaller_one(small_data, in_process):
    from mmdet.registry import MODELS
    from mmengine.analysis.print_helper import _format_size
    # the test pipeline keeps the aspect ratio; the data preprocessor pads to /32
    shape, flops, params = _flops(in_process('get_flops', CPU_CONFIG, '--num-images', 1,
                                             data=small_data))
    assert max(shape) == 384 and min(shape) % 32 == 0
    cfg = Config.fromfile(CPU_CONFIG)
    cfg.model.backbone.init_cfg = None
    model = MODELS.build(cfg.model)
    assert params == _format_size(sum(p.numel() for p in model.parameters()))
    # another input size: the test pipeline's Resize
    small, small_flops, _ = _flops(in_process(
        'get_flops', CPU_CONFIG, '--num-images', 1,
        '--cfg-options', 'val_dataloader.dataset.pipeline.1.scale=(128,128)', data=small_data))
    assert max(small) == 128 and min(small) % 32 == 0
    assert 0 < small_flops < flops
