"""tools/train.py end to end on real Penn-Fudan images (tiny CPU runs): exact
resume with the shipped data-loader workers, damaged checkpoints, work-dir
locking, TensorBoard, CPU DDP."""
import json
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
import torch

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, TINY_SIZE, run_tool

# as the CPU config ships: 2 persistent train workers
SHIPPED_WORKERS = [o for o in TINY_OPTIONS if not o.startswith('train_dataloader.num_workers')
                   and not o.startswith('train_dataloader.persistent_workers')]


def train(work_dir, data, *extra, check=True, options=SHIPPED_WORKERS):
    return run_tool('tools/train.py', CPU_CONFIG, '--work-dir', work_dir, '--data-root', data,
                    *TINY_SIZE, *extra, '--cfg-options', *options, check=check)


def weights(path):
    return torch.load(path, map_location='cpu', weights_only=True)['state_dict']


def assert_same_weights(a, b):
    a, b = weights(a), weights(b)
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


@pytest.fixture(scope='module')
def full_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('full')
    train(work, coco_data, '--vis-backend', 'tensorboard')
    return work


def _start(work, data):
    cmd = [sys.executable, 'tools/train.py', CPU_CONFIG, '--work-dir', str(work),
           '--data-root', str(data), *TINY_SIZE, '--cfg-options', *SHIPPED_WORKERS]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def _wait_for_log(proc, work, pattern, timeout=300):
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if any(re.search(pattern, p.read_text()) for p in work.glob('*/*.log')):
            return
        time.sleep(0.05)
    raise AssertionError(f'no {pattern!r} in the log: {proc.stderr.read()[-3000:]}'
                         if proc.poll() is not None else f'timed out waiting for {pattern!r}')


def test_killed_run_resumes_to_the_same_weights(full_run, coco_data, tmp_path):
    work = tmp_path / 'killed'
    proc = _start(work, coco_data)
    _wait_for_log(proc, work, r'Epoch\(train\)\s+\[2\]\[\s*1/4\]')
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert (work / 'epoch_1.pth').exists() and not (work / 'epoch_2.pth').exists()

    refused = train(work, coco_data, check=False)
    assert refused.returncode == 2 and '--resume' in refused.stderr
    train(work, coco_data, '--resume')
    assert_same_weights(full_run / 'epoch_2.pth', work / 'epoch_2.pth')


def test_resume_skips_a_damaged_latest_checkpoint(full_run, coco_data, tmp_path):
    work = tmp_path / 'damaged'
    work.mkdir()
    shutil.copy(full_run / 'epoch_1.pth', work / 'epoch_1.pth')
    data = (full_run / 'epoch_2.pth').read_bytes()
    (work / 'epoch_2.pth').write_bytes(data[:len(data) // 3])
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    proc = train(work, coco_data, '--resume')
    assert f'skips damaged checkpoint {work / "epoch_2.pth"}' in proc.stdout
    assert f'resuming from {work / "epoch_1.pth"}' in proc.stdout
    assert_same_weights(full_run / 'epoch_2.pth', work / 'epoch_2.pth')


def test_resume_with_nothing_to_resume_is_an_error(coco_data, tmp_path):
    for extra in (['--resume'], ['--resume', str(tmp_path / 'typo.pth')]):
        proc = train(tmp_path / 'empty', coco_data, *extra, check=False)
        assert proc.returncode == 2, proc.stderr[-2000:]
        assert proc.stderr.strip().splitlines()[-1].startswith('error: --resume')


def test_second_trainer_on_the_same_work_dir_is_refused(coco_data, tmp_path):
    work = tmp_path / 'shared'
    first = _start(work, coco_data)
    try:
        _wait_for_log(first, work, r'Epoch\(train\)')
        second = train(work, coco_data, '--resume', check=False)
        assert second.returncode == 2
        assert 'is in use by a training run' in second.stderr.splitlines()[-1]
    finally:
        first.kill()
        first.wait()


def test_tensorboard_events_and_images_are_written(full_run):
    events = list(full_run.glob('*/vis_data/events.out.tfevents.*'))
    assert events and events[0].stat().st_size > 0
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    acc = EventAccumulator(str(events[0].parent), size_guidance={'images': 0})
    acc.Reload()
    assert 'loss' in acc.Tags()['scalars'] and 'coco/segm_mAP' in acc.Tags()['scalars']
    assert acc.Tags()['images'], 'no validation images in TensorBoard'


def test_checkpoints_are_written_atomically(full_run):
    from mmengine.config import Config
    from mmengine.fileio import get_file_backend
    from pennfudan_vit.engine import AtomicLocalBackend
    hook = Config.fromfile(CPU_CONFIG).default_hooks.checkpoint
    assert isinstance(get_file_backend(str(full_run), backend_args=hook.backend_args),
                      AtomicLocalBackend)
    assert not list(full_run.glob('.*.tmp'))


def test_ddp_two_processes_gloo(coco_data, tmp_path):
    """2-process DDP on CPU (gloo): train through tools/dist_train.sh, then evaluate the
    checkpoint through tools/dist_test.sh; both must exit 0 (no abort at teardown)."""
    opts = [o for o in TINY_OPTIONS if 'max_epochs' not in o] + ['train_cfg.max_epochs=1']
    env = {'PY': sys.executable, 'PORT': '29533', 'PATH': '/usr/bin:/bin',
           'OMP_NUM_THREADS': '1'}

    def launch(script, *args):
        proc = subprocess.run(['bash', f'tools/{script}', *map(str, args)], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        return proc

    train = tmp_path / 'train'
    launch('dist_train.sh', CPU_CONFIG, 2, '--work-dir', train, '--data-root', coco_data,
           *TINY_SIZE, '--cfg-options', *opts)
    assert (train / 'epoch_1.pth').exists()
    log = next(train.glob('*/*.log')).read_text()
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log
    test = launch('dist_test.sh', CPU_CONFIG, train / 'epoch_1.pth', 2, '--work-dir',
                  tmp_path / 'test', '--data-root', coco_data, '--bootstrap', '20', *TINY_SIZE,
                  '--cfg-options', *[o for o in opts if o.startswith('test_')])
    [report] = (tmp_path / 'test').glob('test_*/metrics.json')
    assert 0.0 <= json.loads(report.read_text())['metrics']['coco/segm_mAP'] <= 1.0
    assert test.stdout.count('[test] metrics:') == 1   # one report, from rank 0
