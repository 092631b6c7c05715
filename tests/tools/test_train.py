"""tools/train.py on real Penn-Fudan images (tiny CPU runs, in this process unless a
process is the point): exact resume with the shipped data-loader workers after a kill,
damaged checkpoints, work-dir locking, TensorBoard, CPU DDP."""
import json
import os
import re
import signal
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

from helpers import CPU_CONFIG, ROOT, TINY_OPTIONS, TINY_SIZE, tool_main
from pennfudan_vit.detector import read_checkpoint

# as the CPU config ships: 2 persistent train workers; 4 iterations of 1 image an epoch
SHIPPED_WORKERS = [o for o in TINY_OPTIONS if not o.startswith((
    'train_dataloader.num_workers', 'train_dataloader.persistent_workers',
    'train_dataloader.dataset.indices', 'train_dataloader.batch_size'))] + [
    'train_dataloader.dataset.indices=4', 'train_dataloader.batch_size=1',
    'default_hooks.checkpoint.save_best=None']


def argv(work_dir, data, *extra):
    return [CPU_CONFIG, '--work-dir', str(work_dir), '--data-root', str(data), *TINY_SIZE,
            *map(str, extra), '--cfg-options', *SHIPPED_WORKERS]


def train(work_dir, data, *extra):
    tool_main('train')(argv(work_dir, data, *extra))


def assert_same_weights(a, b):
    a, b = read_checkpoint(str(a))['state_dict'], read_checkpoint(str(b))['state_dict']
    assert a.keys() == b.keys()
    for k in a:
        torch.testing.assert_close(b[k], a[k], rtol=0, atol=0, msg=k)


def train_process(work_dir, data, epoch: int) -> subprocess.Popen:
    """tools/train.py as its own process group, once it logs ``epoch``'s first iteration."""
    proc = subprocess.Popen([sys.executable, 'tools/train.py', *argv(work_dir, data)],
                            cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    deadline = time.time() + 300
    while not any(re.search(rf'Epoch\(train\)\s+\[{epoch}\]\[\s*1/4\]', p.read_text())
                  for p in Path(work_dir).glob('*/*.log')):
        assert proc.poll() is None and time.time() < deadline, proc.stderr.read()[-3000:]
        time.sleep(0.05)
    return proc


@pytest.fixture(scope='module')
def full_run(tmp_path_factory, coco_data):
    work = tmp_path_factory.mktemp('full')
    train(work, coco_data, '--vis-backend', 'tensorboard')
    return work


@pytest.mark.slow   # a real SIGKILLed process and a second run
def test_killed_run_resumes_to_the_same_weights(full_run, coco_data, tmp_path,
                                                one_line_error):
    work = tmp_path / 'killed'
    proc = train_process(work, coco_data, epoch=2)
    os.killpg(proc.pid, signal.SIGKILL)  # the trainer and its data-loader workers
    proc.wait()
    assert (work / 'epoch_1.pth').exists() and not (work / 'epoch_2.pth').exists()

    one_line_error(tool_main('train'), argv(work, coco_data), '--resume to continue it')
    train(work, coco_data, '--resume')
    assert_same_weights(full_run / 'epoch_2.pth', work / 'epoch_2.pth')


def test_sigterm_ends_the_run_with_its_data_loader_workers(coco_data, tmp_path):
    proc = train_process(tmp_path / 'terminated', coco_data, epoch=1)
    os.kill(proc.pid, signal.SIGTERM)  # the trainer alone, as a scheduler or kill does
    try:
        assert proc.wait(timeout=60) == 128 + signal.SIGTERM
        deadline = time.time() + 15
        while time.time() < deadline:  # its workers, in its process group, end with it
            try:
                os.killpg(proc.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.2)
        pytest.fail('data-loader workers outlived the terminated run')
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_resume_skips_a_damaged_latest_checkpoint(full_run, coco_data, tmp_path, capsys):
    work = tmp_path / 'damaged'
    work.mkdir()
    shutil.copy(full_run / 'epoch_1.pth', work / 'epoch_1.pth')
    data = (full_run / 'epoch_2.pth').read_bytes()
    (work / 'epoch_2.pth').write_bytes(data[:len(data) // 3])
    (work / 'last_checkpoint').write_text(str(work / 'epoch_2.pth'))
    train(work, coco_data, '--resume')
    out, err = capsys.readouterr()
    assert (out + err).count('damaged checkpoint') == 1  # reported once
    assert f'skips damaged checkpoint {work / "epoch_2.pth"}' in err
    assert f'resuming from {work / "epoch_1.pth"}' in out
    assert_same_weights(full_run / 'epoch_2.pth', work / 'epoch_2.pth')


def test_resume_with_nothing_to_resume_is_an_error(coco_data, tmp_path, one_line_error):
    one_line_error(tool_main('train'), argv(tmp_path / 'empty', coco_data, '--resume'),
                   '--resume: no checkpoint to resume from')
    one_line_error(tool_main('train'), argv(tmp_path / 'empty', coco_data, '--resume',
                                            tmp_path / 'typo.pth'),
                   f'--resume checkpoint {tmp_path / "typo.pth"} does not exist')


def test_second_trainer_on_the_same_work_dir_is_refused(coco_data, tmp_path, one_line_error):
    work = tmp_path / 'shared'
    work.mkdir()
    # another process holding the lock as a training run does (a POSIX record lock)
    holder = subprocess.Popen(
        [sys.executable, '-c', 'import fcntl, os, sys, time; f = open(sys.argv[1], "a+"); '
         'fcntl.lockf(f, fcntl.LOCK_EX); f.write(f"pid {os.getpid()}\\n"); f.flush(); '
         'print("locked", flush=True); time.sleep(60)', str(work / '.lock')],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == 'locked'
        one_line_error(tool_main('train'), argv(work, coco_data, '--resume'),
                       f'is in use by a training run (pid {holder.pid})')
    finally:
        holder.kill()
        holder.wait()


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


@pytest.mark.slow
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

    train_dir = tmp_path / 'train'
    launch('dist_train.sh', CPU_CONFIG, 2, '--work-dir', train_dir, '--data-root', coco_data,
           *TINY_SIZE, '--cfg-options', *opts)
    assert (train_dir / 'epoch_1.pth').exists()
    log = next(train_dir.glob('*/*.log')).read_text()
    assert 'world_size: 2' in log or 'Distributed launcher: pytorch' in log
    test = launch('dist_test.sh', CPU_CONFIG, train_dir / 'epoch_1.pth', 2, '--work-dir',
                  tmp_path / 'test', '--data-root', coco_data, '--bootstrap', '20', *TINY_SIZE,
                  '--cfg-options', *[o for o in opts if o.startswith('test_')])
    [report] = (tmp_path / 'test').glob('test_*/metrics.json')
    assert 0.0 <= json.loads(report.read_text())['metrics']['coco/segm_mAP'] <= 1.0
    assert test.stdout.count('[test] metrics:') == 1   # one report, from rank 0


@pytest.mark.parametrize('units, flags, precision', [
    (['amx_bf16'], [], 'bf16 autocast, fp32 weights'), (['amx_bf16'], ['--fp32'], 'fp32'),
    ([], [], 'fp32')])
def test_cpu_config_trains_in_bf16_where_the_cpu_has_bf16_units(coco_data, tmp_path, monkeypatch,
                                                                capsys, units, flags, precision):
    monkeypatch.setattr('pennfudan_vit.engine.mixed_precision.cpu_info',
                        lambda: dict(model='x', cpus=2, bf16=units, int8=[]))
    opts = [o for o in TINY_OPTIONS if 'max_epochs' not in o and 'indices' not in o] + [
        'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
        'train_dataloader.dataset.indices=2', 'val_dataloader.dataset.indices=1']
    tool_main('train')([CPU_CONFIG, '--work-dir', str(tmp_path), '--data-root', str(coco_data),
                        *TINY_SIZE, *flags, '--cfg-options', *opts])
    log = next(tmp_path.glob('*/*.log')).read_text()
    assert f'precision: {precision}; CPU: ' in log
    assert 'Epoch(val) [1][1/1]' in log   # validation ran (under bf16 autocast in bf16)
    note = '[train] mixed precision: none native here, training in fp32'
    assert (note in capsys.readouterr().out) == (not units)
    weights = read_checkpoint(str(tmp_path / 'epoch_1.pth'))['state_dict']
    assert {w.dtype for w in weights.values() if w.is_floating_point()} == {torch.float32}


def test_amp_and_fp32_are_exclusive(capsys):
    with pytest.raises(SystemExit):
        tool_main('train')([CPU_CONFIG, '--amp', '--fp32'])
    assert 'not allowed with argument' in capsys.readouterr().err
