"""tools/benchmark.py end to end on real Penn-Fudan images (tiny CPU runs): the JSON
record's figures exist, are positive and agree with each other; checkpoints load; the
main config runs without its pretrained weights; bad input gets one-line errors.
No assertion on speed."""
import json
import math

import pytest
import torch
from mmengine.config import Config

from helpers import CPU_CONFIG, ROOT, run_tool

MAIN_CONFIG = str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py')
# one thread: the tests share a small machine; threads change no figure's meaning
TINY = ['--input-size', '128', '128', '--iters', '2', '--warmup', '1', '--batch-size', '2',
        '--threads', '1']


@pytest.fixture(scope='module')
def cpu_checkpoint(tmp_path_factory):
    """Random weights of the CPU config's model at 128 px, saved as mmengine does."""
    from mmdet.registry import MODELS
    cfg = Config.fromfile(CPU_CONFIG)
    cfg.model.backbone.img_size = 128
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    path = tmp_path_factory.mktemp('ckpt') / 'model.pth'
    torch.save(dict(meta={}, state_dict=model.state_dict()), path)
    return path


def _bench(*args):
    proc = run_tool('tools/benchmark.py', *args)
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc


def _positive(x):
    return isinstance(x, (int, float)) and math.isfinite(x) and x > 0


def _check_stats(stats, n):
    assert stats['n'] == n
    for key in ('median', 'q1', 'q3', 'p90', 'min', 'max', 'mean'):
        assert _positive(stats[key]), (key, stats)
    assert stats['min'] <= stats['q1'] <= stats['median'] <= stats['q3'] <= stats['max']
    assert stats['iqr'] == pytest.approx(stats['q3'] - stats['q1'])


def _check_env(rec):
    assert rec['device'] == 'cpu' and rec['device_name']
    assert isinstance(rec['threads'], int) and rec['threads'] >= 1
    for lib in ('torch', 'mmcv', 'mmdet', 'mmengine'):
        assert rec['versions'][lib]
    assert _positive(rec['max_rss_mib']) and _positive(rec['params_m'])


def _check_infer(infer, batch, iters, max_dets):
    _check_stats(infer['latency_ms_batch1'], iters)
    _check_stats(infer['sec_per_batch'], iters)
    assert infer['latency_ms_batch1']['p90'] >= infer['latency_ms_batch1']['median']
    assert infer['batch_size'] == batch
    assert infer['img_per_s'] == pytest.approx(batch / infer['sec_per_batch']['median'])
    assert _positive(infer['data_s_per_batch']['median'])
    assert 0 <= infer['detections_per_img'] <= max_dets
    assert infer['precision'] == 'float32' and infer['cuda_max_allocated_mib'] is None


def test_cpu_config_train_and_infer(coco_data, cpu_checkpoint, tmp_path):
    out = tmp_path / 'bench.json'
    rec, proc = _bench(CPU_CONFIG, '--data-root', coco_data, *TINY, '--mode', 'both',
                       '--profile', '--out', out, '--checkpoint', cpu_checkpoint)
    assert json.loads(out.read_text()) == rec
    assert f'weights from {cpu_checkpoint}' in proc.stderr
    assert rec['checkpoint'] == str(cpu_checkpoint)
    assert rec['config_name'] == 'deit-tiny_mrcnn_pennfudan_cpu' and rec['mode'] == 'both'
    assert (rec['input_size'], rec['batch_size'], rec['iters'], rec['warmup']) == ([128, 128],
                                                                                    2, 2, 1)
    _check_env(rec)
    max_dets = Config.fromfile(CPU_CONFIG).model.test_cfg.rcnn.max_per_img
    _check_infer(rec['infer'], 2, 2, max_dets)

    train = rec['train']
    _check_stats(train['sec_per_iter'], 2)
    assert train['img_per_s'] == pytest.approx(2 / train['sec_per_iter']['median'])
    lo, hi = train['img_per_s_range']
    assert lo <= train['img_per_s'] <= hi
    assert _positive(train['data_s_per_batch']['median'])
    assert math.isfinite(train['loss_first']) and math.isfinite(train['loss_last'])
    assert (train['optim_wrapper'], train['precision']) == ('OptimWrapper', 'float32')
    # inference runs first; RSS peaks only grow
    assert 0 < rec['infer']['max_rss_mib'] <= train['max_rss_mib'] <= rec['max_rss_mib']

    for phase in ('train', 'infer'):
        prof = rec[phase]['profile']
        assert prof['iters'] == 2 and 0 < len(prof['top_cpu']) <= 15
        assert all(r['name'] and r['self_cpu_ms'] >= 0 for r in prof['top_cpu'])
        stages = {s['stage'] for s in prof['stages_forward']}
        assert {'backbone', 'neck', 'rpn_head', 'roi_head.mask_head'} <= stages
        assert f'{phase} profile' in proc.stdout
    assert 'train s/iter' in proc.stdout and 'infer ms/img (batch 1' in proc.stdout


def test_main_config_runs_without_pretrained_weights(coco_data):
    rec, proc = _bench(MAIN_CONFIG, '--data-root', coco_data, '--input-size', '128', '128',
                       '--mode', 'infer', '--iters', '1', '--warmup', '0', '--batch-size', '2',
                       '--threads', '1')
    assert 'dropped pretrained init (model.backbone.init_cfg)' in proc.stderr
    assert 'random weights' in proc.stderr and rec['checkpoint'] is None
    assert rec['config_name'] == 'vit_mrcnn_pennfudan' and rec['mode'] == 'infer'
    assert 'train' not in rec and rec['input_size'] == [128, 128]
    _check_env(rec)
    max_dets = Config.fromfile(MAIN_CONFIG).model.test_cfg.rcnn.max_per_img
    _check_infer(rec['infer'], 2, 1, max_dets)


def test_data_loader_mode(coco_data):
    rec, _ = _bench(CPU_CONFIG, '--data-root', coco_data, *TINY, '--mode', 'data',
                    '--cfg-options', 'train_dataloader.num_workers=1',
                    'train_dataloader.pin_memory=True', 'train_dataloader.dataset.indices=16')
    data = rec['data']
    assert (data['num_workers'], data['pin_memory'], data['batch_size']) == (1, True, 2)
    _check_stats(data['sec_per_batch'], 2)
    assert _positive(data['epoch_start_s']) and _positive(data['epoch_restart_s'])
    assert data['img_per_s'] == pytest.approx(2 / data['sec_per_batch']['median'])
    assert 'train' not in rec and 'infer' not in rec


def test_torchvision_reference_same_run(coco_data):
    rec, proc = _bench(CPU_CONFIG, '--data-root', coco_data, '--reference', 'torchvision',
                       '--input-size', '128', '128', '--iters', '1', '--warmup', '0',
                       '--batch-size', '2', '--mode', 'both', '--threads', '1')
    ref = rec['reference']
    assert rec['mode'] == 'both' and '--reference torchvision' in rec['command']
    assert ref['input_size'] == [128, 128]
    assert ref['name'] == 'torchvision_maskrcnn_vit_simplefpn' and _positive(ref['params_m'])
    assert ref['backbone'] == {'arch': 'deit-tiny', 'patch_size': 16, 'drop_path_rate': 0.0}
    _check_stats(ref['infer']['latency_ms_batch1'], 1)
    _check_stats(ref['infer']['sec_per_batch'], 1)
    assert ref['infer']['img_per_s'] == pytest.approx(2 / ref['infer']['sec_per_batch']['median'])
    assert 0 < ref['infer']['detections_per_img'] <= 100   # torchvision's default cap
    assert _positive(ref['infer']['convert_s_per_batch']['median'])
    _check_stats(ref['train']['sec_per_iter'], 1)
    assert ref['train']['img_per_s'] == pytest.approx(2 / ref['train']['sec_per_iter']['median'])
    assert math.isfinite(ref['train']['loss_first']) and ref['train']['loss_first'] > 0
    speed = rec['speedup_vs_reference']
    assert all(_positive(v) for v in speed.values())
    assert speed['train'] == pytest.approx(
        ref['train']['sec_per_iter']['median'] / rec['train']['sec_per_iter']['median'])
    assert speed['infer_latency'] == pytest.approx(
        ref['infer']['latency_ms_batch1']['median'] / rec['infer']['latency_ms_batch1']['median'])
    assert speed['infer_throughput'] == pytest.approx(
        rec['infer']['img_per_s'] / ref['infer']['img_per_s'])
    assert 'speed-up vs ref, train s/iter' in proc.stdout and 'ref infer ms/img' in proc.stdout


@pytest.mark.parametrize('args, message', [
    pytest.param(['--device', 'cuda'], 'CUDA is not available', id='cuda'),
    pytest.param(['--data-root', '/nonexistent/pennfudan'], '--data-root', id='data-root'),
    pytest.param(['--checkpoint', '/nonexistent/model.pth'], 'checkpoint', id='checkpoint'),
    pytest.param(['--cfg-options', 'model.neck.out_channels=abc'], 'out_channels', id='option'),
    pytest.param(['--input-size', '100', '100'], 'multiples of 32', id='input-size'),
])
def test_one_line_errors(args, message):
    if args[0] == '--device' and torch.cuda.is_available():
        pytest.skip('CUDA is available here')
    proc = run_tool('tools/benchmark.py', CPU_CONFIG, *args, check=False)
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and lines[-1].startswith('error: '), proc.stderr[-2000:]
    assert message in lines[-1] and 'Traceback' not in proc.stderr
    assert not proc.stdout.strip()


@pytest.mark.parametrize('args', [
    ['--reference', 'torchvision', '--amp'], ['--reference', 'torchvision', '--mode', 'data'],
    ['--iters', '0'], ['--warmup', '-1'],
])
def test_argument_errors(args):
    """Refused by argparse (usage line, status 2) before anything is loaded."""
    proc = run_tool('tools/benchmark.py', CPU_CONFIG, *args, check=False)
    assert proc.returncode == 2 and 'usage:' in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith('benchmark.py: error: ')
