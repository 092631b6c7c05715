"""tools/benchmark.py in this process on real Penn-Fudan images (tiny CPU runs): the JSON
record's figures exist, are positive and agree with each other; checkpoints load; the
main config runs without its pretrained weights; bad input gets one-line errors. No
assertion on speed."""
import json
import math

import pytest
import torch
from mmengine.config import Config

from helpers import CPU_CONFIG, ROOT, tool_main

MAIN_CONFIG = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')
# one thread: the tests share a small machine; threads change no figure's meaning
TINY = ['--input-size', '128', '128', '--iters', '2', '--warmup', '1', '--batch-size', '2',
        '--threads', '1']


def bench(capsys, *args):
    tool_main('benchmark')([str(a) for a in args])
    out, err = capsys.readouterr()
    return json.loads(out.strip().splitlines()[-1]), out, err


def check_stats(stats, n):
    assert stats['n'] == n and all(stats[k] > 0 for k in ('median', 'p90', 'min', 'max'))
    assert stats['min'] <= stats['q1'] <= stats['median'] <= stats['q3'] <= stats['max']


def check_infer(infer, batch, iters, max_dets):
    check_stats(infer['latency_ms_batch1'], iters)
    check_stats(infer['sec_per_batch'], iters)
    assert infer['img_per_s'] == pytest.approx(batch / infer['sec_per_batch']['median'])
    assert infer['data_s_per_batch']['median'] > 0 and 0 <= infer['detections_per_img'] <= max_dets
    assert infer['precision'] == 'float32' and infer['cuda_max_allocated_mib'] is None


def test_infer_and_data_modes(coco_data, capsys):
    rec, out, err = bench(capsys, CPU_CONFIG, '--data-root', coco_data, *TINY, '--mode',
                          'infer', '--iters', '1', '--warmup', '0')
    assert 'weights: random init' in err and rec['checkpoint'] is None and 'train' not in rec
    assert (rec['config_name'], rec['mode'], rec['input_size']) == (
        'deit-tiny_mrcnn_pennfudan_cpu', 'infer', [128, 128])
    assert rec['device'] == 'cpu' and rec['device_name'] and rec['threads'] == 1
    assert all(rec['versions'][lib] for lib in ('torch', 'mmcv', 'mmdet', 'mmengine'))
    check_infer(rec['infer'], 2, 1, Config.fromfile(CPU_CONFIG).model.test_cfg.rcnn.max_per_img)
    assert 'infer ms/img, batch 1' in out and rec['params_m'] > 0
    rec, out, _ = bench(capsys, CPU_CONFIG, '--data-root', coco_data, *TINY, '--mode', 'data',
                        '--cfg-options', 'train_dataloader.num_workers=0',
                        'train_dataloader.persistent_workers=False')
    data = rec['data']
    assert (data['num_workers'], data['persistent_workers'], data['batch_size']) == (0, False, 2)
    check_stats(data['sec_per_batch'], 2)
    assert data['epoch_start_s'] > 0 and data['epoch_restart_s'] > 0
    assert 'train' not in rec and 'infer' not in rec and 'data loader s/batch' in out


@pytest.mark.slow
def test_both_phases_with_the_reference_and_profile(coco_data, capsys, tmp_path):
    out_file = tmp_path / 'bench.json'
    rec, out, _ = bench(capsys, CPU_CONFIG, '--data-root', coco_data, *TINY, '--profile',
                        '--reference', 'torchvision', '--channels-last', '--out', out_file)
    assert json.loads(out_file.read_text()) == rec and '--reference torchvision' in rec['command']
    check_infer(rec['infer'], 2, 2, 50)
    for part in (rec, rec['reference']):
        check_stats(part['train']['sec_per_iter'], 2)
        assert math.isfinite(part['train']['loss_first']) and part['train']['loss_last'] > 0
        assert part['params_m'] > 0 and part['infer']['detections_per_img'] >= 0
        assert 'convolution' in part['train']['profile']['share_pct_by_class']
    assert rec['train']['optim_wrapper'] == rec['reference']['train']['optim_wrapper']
    ref = rec['reference']
    assert ref['backbone'] == {'arch': 'deit-tiny', 'patch_size': 16, 'drop_path_rate': 0.0}
    speed = rec['speedup_vs_reference']
    assert speed['train'] == pytest.approx(
        ref['train']['sec_per_iter']['median'] / rec['train']['sec_per_iter']['median'])
    assert speed['infer_latency'] == pytest.approx(
        ref['infer']['latency_ms_batch1']['median'] / rec['infer']['latency_ms_batch1']['median'])
    assert speed['infer_throughput'] == pytest.approx(
        rec['infer']['img_per_s'] / ref['infer']['img_per_s'])
    assert 'train profile' in out and 'speed-up vs reference, train' in out


def test_checkpoint_amp_and_the_main_config(coco_data, capsys, cpu_checkpoint, monkeypatch):
    monkeypatch.setattr('pennfudan_vit.engine.mixed_precision.cpu_info',   # any CPU runs it
                        lambda: dict(model='x', cpus=2, bf16=['avx512_bf16'], int8=[]))
    rec, out, err = bench(capsys, CPU_CONFIG, '--data-root', coco_data, *TINY, '--amp',
                          '--compare-fp32', '--checkpoint', cpu_checkpoint, '--iters', '1',
                          '--warmup', '0')
    assert f'weights: {cpu_checkpoint}' in err and rec['checkpoint'] == str(cpu_checkpoint)
    assert rec['train']['precision'] == rec['infer']['precision'] == 'bfloat16'
    assert rec['train']['optim_wrapper'] == 'CPUBF16OptimWrapper'
    fp32 = rec['fp32']
    assert fp32['train']['precision'] == fp32['infer']['precision'] == 'float32'
    assert fp32['train']['optim_wrapper'] == 'OptimWrapper'
    assert rec['speedup_vs_fp32']['train'] == pytest.approx(
        fp32['train']['sec_per_iter']['median'] / rec['train']['sec_per_iter']['median'])
    assert 'speed-up vs fp32, train' in out and rec['cpu']['cpus'] > 0
    rec, _, err = bench(capsys, MAIN_CONFIG, '--data-root', coco_data, *TINY, '--mode', 'infer',
                        '--iters', '1', '--warmup', '0')
    assert 'dropped pretrained init (model.backbone.init_cfg)' in err
    assert rec['config_name'] == 'vit_mrcnn_pennfudan' and rec['infer']['img_per_s'] > 0


@pytest.mark.parametrize('args, message', [
    (['--device', 'cuda'], 'no usable CUDA GPU'),
    (['--data-root', '/nonexistent/pennfudan'], '--data-root'),
    (['--checkpoint', '/nonexistent/model.pth'], 'checkpoint'),
    (['--cfg-options', 'model.neck.out_channels=abc'], 'out_channels'),
    (['--input-size', '100', '100'], 'multiples of 32'),
    (['--reference', 'torchvision', '--amp'], '--reference compares random-init float32'),
    (['--iters', '0'], 'must be >= 1'),
    (['--compare-fp32'], '--compare-fp32 compares --amp with fp32'),
])
def test_one_line_errors(args, message, user_error):
    if args[0] == '--device' and torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    user_error(tool_main('benchmark'), [CPU_CONFIG, *args], message)
