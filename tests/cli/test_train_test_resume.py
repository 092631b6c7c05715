"""train.py / test.py end to end on real Penn-Fudan images (tiny CPU runs):
SIGKILL mid-epoch + --resume ends with the same weights, test.py writes metrics,
and bad input gets one-line errors without touching existing outputs."""
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, run_tool


def _train(work_dir, data, *extra, check=True):
    return run_tool('tools/train.py', CPU_CONFIG, '--work-dir', work_dir, '--data-root', data,
                    *extra, '--cfg-options', *TINY_OPTIONS, check=check)


def _weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


@pytest.fixture(scope='module')
def full_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('full')
    _train(work, coco_data)
    return work


def test_killed_run_resumes_to_the_same_weights(full_run, coco_data, tmp_path):
    work = tmp_path / 'killed'
    cmd = [sys.executable, 'tools/train.py', CPU_CONFIG, '--work-dir', str(work),
           '--data-root', str(coco_data), '--cfg-options', *TINY_OPTIONS]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    # wait for the first epoch's checkpoint, then for epoch 2 to be under way
    deadline = time.time() + 300
    while not (work / 'epoch_1.pth').exists():
        assert proc.poll() is None, proc.stderr.read()[-3000:]
        assert time.time() < deadline
        time.sleep(0.2)
    logs = list(work.glob('*/*.log'))
    second_epoch = re.compile(r'Epoch\(train\)\s+\[2\]\[\s*1/4\]')
    while time.time() < deadline and proc.poll() is None:
        if any(second_epoch.search(p.read_text()) for p in logs):
            break
        time.sleep(0.05)
    assert proc.poll() is None, 'training finished before it could be killed'
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (work / 'epoch_2.pth').exists()

    # without --resume the tool refuses to overwrite the interrupted run
    refused = _train(work, coco_data, check=False)
    assert refused.returncode != 0 and '--resume' in refused.stderr
    _train(work, coco_data, '--resume')
    a, b = _weights(full_run / 'epoch_2.pth'), _weights(work / 'epoch_2.pth')
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


def test_test_tool_writes_metrics_and_result_files(full_run, coco_data, tmp_path):
    ckpt = full_run / 'epoch_2.pth'
    out = run_tool('tools/test.py', CPU_CONFIG, ckpt, '--work-dir', tmp_path, '--data-root',
                   coco_data, '--out', tmp_path / 'preds.pkl', '--bootstrap', '50',
                   '--cfg-options', *[o for o in TINY_OPTIONS if o.startswith('test_')])
    assert 'Average Precision' in out.stdout + out.stderr
    metrics_files = list(tmp_path.glob('test_*/metrics.json'))
    assert len(metrics_files) == 1
    report = json.loads(metrics_files[0].read_text())
    for key in ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP_l'):
        assert 0.0 <= report['metrics'][key] <= 1.0
    assert set(report['result_files']) == {'bbox', 'segm'}
    assert (tmp_path / 'preds.pkl').stat().st_size > 0
    assert 'bootstrap' in report


def test_bad_inputs_get_one_line_errors(full_run, coco_data, tmp_path):
    before = {p: p.stat().st_mtime_ns for p in full_run.rglob('*') if p.is_file()}
    cases = [
        (['tools/train.py', CPU_CONFIG, '--work-dir', tmp_path / 'w', '--data-root',
          tmp_path / 'nowhere'], 'annotation file'),
        (['tools/train.py', CPU_CONFIG, '--work-dir', tmp_path / 'w', '--data-root', coco_data,
          '--cfg-options', 'train_cfg.max_epoch=2x', 'optim_wrapper.optimizerr.lr=1'],
         'does not exist'),
        (['tools/train.py', CPU_CONFIG, '--work-dir', full_run, '--data-root', coco_data],
         'already holds checkpoints'),
        (['tools/test.py', CPU_CONFIG, tmp_path / 'missing.pth', '--data-root', coco_data],
         'missing.pth does not exist'),
        (['tools/train.py', 'configs/nope.py'], 'nope.py does not exist'),
    ]
    for args, expected in cases:
        proc = run_tool(*args, check=False)
        assert proc.returncode != 0, args
        last = proc.stderr.strip().splitlines()[-1]
        assert last.startswith('error: ') and expected in last, (args, proc.stderr[-2000:])
    after = {p: p.stat().st_mtime_ns for p in full_run.rglob('*') if p.is_file()}
    assert before == after


def test_corrupt_image_names_the_file(coco_data, tmp_path):
    """A corrupt image stops training with a message naming it."""
    import shutil
    data = tmp_path / 'data'
    (data / 'PNGImages').mkdir(parents=True)
    shutil.copytree(coco_data / 'annotations', data / 'annotations')
    train = json.loads((coco_data / 'annotations' / 'instances_train.json').read_text())
    first = train['images'][0]['file_name']
    for p in (coco_data / 'PNGImages').iterdir():
        (data / 'PNGImages' / p.name).symlink_to(p.resolve())
    (data / first).unlink()
    (data / first).write_bytes(b'\x89PNG\r\n\x1a\n' + b'garbage' * 10)
    proc = _train(tmp_path / 'w', data, check=False)
    assert proc.returncode != 0
    assert Path(first).name in proc.stderr


def test_ddp_two_processes_gloo(coco_data, tmp_path):
    """2-process DDP on CPU (gloo) through tools/dist_train.sh (torchrun)."""
    opts = [o for o in TINY_OPTIONS if 'max_epochs' not in o] + ['train_cfg.max_epochs=1']
    proc = subprocess.run(
        ['bash', 'tools/dist_train.sh', CPU_CONFIG, '2', '--work-dir', str(tmp_path),
         '--data-root', str(coco_data), '--cfg-options', *opts],
        cwd=ROOT, capture_output=True, text=True, timeout=600,
        env={'PY': sys.executable, 'PORT': '29533', 'PATH': '/usr/bin:/bin',
             'OMP_NUM_THREADS': '1'})
    assert proc.returncode == 0, proc.stderr[-4000:]
    assert (tmp_path / 'epoch_1.pth').exists()
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log


def test_infer_plot_and_grid_tools(full_run, coco_data, tmp_path):
    ckpt = full_run / 'epoch_2.pth'
    imgs = sorted((coco_data / 'PNGImages').iterdir())[:2]
    folder = tmp_path / 'imgs'
    folder.mkdir()
    for p in imgs:
        (folder / p.name).symlink_to(p.resolve())
    run_tool('tools/infer.py', CPU_CONFIG, ckpt, f'{folder}/*.png', '--out-dir',
             tmp_path / 'infer', '--score-thr', '0.0', '--device', 'cpu')
    for p in imgs:
        assert (tmp_path / 'infer' / 'vis' / p.name).stat().st_size > 0
        pred = json.loads((tmp_path / 'infer' / 'preds' / f'{p.stem}.json').read_text())
        assert {'bboxes', 'scores', 'labels'} <= set(pred)
    missing = run_tool('tools/infer.py', CPU_CONFIG, ckpt, tmp_path / 'nothing', check=False)
    assert missing.returncode != 0 and 'nothing' in missing.stderr.splitlines()[-1]

    run_tool('tools/plot_curves.py', full_run, '--out', tmp_path / 'curves.png')
    assert (tmp_path / 'curves.png').read_bytes()[:4] == b'\x89PNG'
    run_tool('tools/qualitative_grid.py', CPU_CONFIG, ckpt, '--data-root', coco_data,
             '--n', '2', '--score-thr', '0.0', '--out', tmp_path / 'grid.png')
    assert (tmp_path / 'grid.png').read_bytes()[:4] == b'\x89PNG'
