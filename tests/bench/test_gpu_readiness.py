"""tools/gpu_readiness.py in this process: the dry run goes through every step on the CPU
and ends with a summary of real figures; without a GPU or a checkpoint it stops with one
line before any work."""
import json

import pytest
import torch

from helpers import tool_main


@pytest.mark.slow
def test_dry_run_on_cpu(tmp_path, coco_data, cpu_checkpoint, capsys):
    work = tmp_path / 'ready'
    tool_main('gpu_readiness')(['--checkpoint', str(cpu_checkpoint), '--dry-run', '--work-dir',
                                str(work), '--data-root', str(coco_data)])
    out = capsys.readouterr().out
    assert 'short training' in out and f'test of {cpu_checkpoint}' in out
    summary = json.loads((work / 'summary.json').read_text())
    assert summary['dry_run'] is True and summary['input_size'] == [128, 128]
    for key in ('train_img_s', 'infer_img_s', 'infer_ms_batch1', 'peak_mem_mib'):
        assert summary[key] > 0, key
    for key in ('cpu_checkpoint_test', 'short_train_val'):
        assert 0 <= summary[key]['coco/bbox_mAP'] <= 1, key
    assert json.loads((work / 'benchmark.json').read_text())['train']['img_per_s'] > 0


def test_without_gpu_or_checkpoint_it_stops_before_any_work(tmp_path, cpu_checkpoint,
                                                           user_error):
    main = tool_main('gpu_readiness')
    user_error(main, ['--checkpoint', tmp_path / 'none.pth', '--dry-run'],
               'does not exist: run make demo first')
    user_error(main, ['--checkpoint', cpu_checkpoint, '--iters', '0'], '--iters must be >= 1')
    if torch.cuda.is_available():
        pytest.skip('this machine has a GPU')
    user_error(main, ['--checkpoint', cpu_checkpoint, '--work-dir', tmp_path / 'w'],
               'no usable CUDA GPU here')
    assert not (tmp_path / 'w').exists()
