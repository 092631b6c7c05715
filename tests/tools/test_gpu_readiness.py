"""tools/gpu_readiness.py: the dry run goes through every step on the CPU and ends with
a summary of real figures; without a GPU or a checkpoint it stops with one line."""
import json
import shutil

import pytest

from helpers import run_tool
from pennfudan_vit.readiness import plan


def test_plan_on_a_gpu_uses_cuda_amp_and_the_main_config():
    steps = {s.name: s.argv for s in plan('W', 'ckpt.pth', iters=300)}
    assert list(steps) == ['setup', 'benchmark', 'train', 'test']
    assert steps['setup'] == ['make', 'setup']
    bench = ' '.join(steps['benchmark'])
    assert 'configs/vit_mrcnn_pennfudan.py --device cuda' in bench and '--amp' in bench
    assert '--flops' in bench and '--input-size' not in bench     # the config's 640 px
    train = ' '.join(steps['train'])
    assert '--amp' in train and 'train_cfg.max_epochs=18' in train  # 18 x 17 >= 300 iters
    assert steps['test'][2:4] == ['configs/deit-tiny_mrcnn_pennfudan_cpu.py', 'ckpt.pth']


def test_dry_run_on_cpu(tmp_path, coco_data, tiny_checkpoint):
    work = tmp_path / 'ready'
    proc = run_tool('tools/gpu_readiness.py', '--checkpoint', tiny_checkpoint, '--dry-run',
                    '--work-dir', work, '--data-root', coco_data, timeout=900)
    for step in ('setup', 'benchmark', 'train', 'test'):
        assert f') {step}: ' in proc.stdout
    summary = json.loads((work / 'summary.json').read_text())
    assert summary['dry_run'] is True and summary['input_size'] == [128, 128]
    for key in ('train_img_s', 'infer_img_s', 'infer_ms_batch1', 'peak_mem_mib',
                'matmul_peak_gflops_s', 'train_of_peak'):
        assert summary[key] > 0, key
    for key in ('cpu_checkpoint_test', 'short_train_val'):
        assert 0 <= summary[key]['coco/bbox_mAP'] <= 1, key


def test_without_gpu_or_checkpoint_it_stops_before_any_work(tmp_path, tiny_checkpoint):
    proc = run_tool('tools/gpu_readiness.py', '--checkpoint', tmp_path / 'none.pth',
                    '--dry-run', check=False)
    assert proc.returncode == 2 and 'does not exist: run make demo first' in proc.stderr
    if shutil.which('nvidia-smi', path='/usr/bin:/bin'):
        pytest.skip('this machine has a GPU')
    proc = run_tool('tools/gpu_readiness.py', '--checkpoint', tiny_checkpoint,
                    '--work-dir', tmp_path / 'w', check=False, env={'PATH': '/usr/bin:/bin'})
    assert proc.returncode == 2 and 'no CUDA GPU here' in proc.stderr
    assert not (tmp_path / 'w').exists()
