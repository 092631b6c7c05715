"""tools/test.py on a tiny trained model, in this process: outputs where the help says,
the checkpoint read once, strict checkpoints."""
import json

import torch

from helpers import CPU_CONFIG, ROOT, TINY_SIZE, tool_main

TEST_OPTIONS = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
                'test_dataloader.dataset.indices=5']


def test_writes_metrics_results_and_painted_images(tiny_checkpoint, coco_data, tmp_path,
                                                   capsys, monkeypatch):
    loads = []
    torch_load = torch.load
    monkeypatch.setattr(torch, 'load', lambda f, *a, **k: loads.append(f) or torch_load(
        f, *a, **k))
    tool_main('test')([CPU_CONFIG, str(tiny_checkpoint), '--work-dir', str(tmp_path),
                       '--data-root', str(coco_data), '--out', str(tmp_path / 'preds.pkl'),
                       '--bootstrap', '50', '--show-dir', 'painted', *TINY_SIZE,
                       '--cfg-options', *TEST_OPTIONS])
    assert loads == [str(tiny_checkpoint)]  # read once, into the model the Runner tests
    out = capsys.readouterr().out
    [test_dir] = tmp_path.glob('test_*')
    report = json.loads((test_dir / 'metrics.json').read_text())
    for key in ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP_l'):
        assert 0.0 <= report['metrics'][key] <= 1.0
        assert f'{key}: {report["metrics"][key]:.4f}' in out  # the Runner's log line
    assert report['result_files'] == {t: str(test_dir / f'results.{t}.json')
                                      for t in ('bbox', 'segm')}
    assert report['bootstrap']['bbox']['n'] == 50 and report['train_seed'] == 0
    assert report['checkpoint'] == str(tiny_checkpoint) and report['config'] == CPU_CONFIG
    assert (tmp_path / 'preds.pkl').stat().st_size > 0
    assert len(list((test_dir / 'painted').glob('*.png'))) == 5
    for line in (f'[test] metrics: {test_dir / "metrics.json"}',
                 f'[test] segm results: {test_dir / "results.segm.json"}',
                 f'[test] painted images: {test_dir / "painted"}'):
        assert line in out.splitlines()


def test_checkpoint_of_another_model_is_refused(tiny_checkpoint, coco_data, tmp_path,
                                                monkeypatch, one_line_error):
    monkeypatch.chdir(ROOT)
    line = one_line_error(tool_main('test'), [
        'configs/vit-s_mrcnn_pennfudan.py', tiny_checkpoint, '--data-root', coco_data,
        '--work-dir', tmp_path], 'does not match config configs/vit-s_mrcnn_pennfudan.py')
    assert 'of another shape' in line and 'deit-tiny_mrcnn_pennfudan_cpu.py' in line
    assert not list(tmp_path.iterdir())


def test_amp_tests_in_bf16_where_the_cpu_has_bf16_units(tiny_checkpoint, coco_data, tmp_path,
                                                        monkeypatch):
    from pennfudan_vit.engine import mixed_precision
    monkeypatch.setattr(mixed_precision, 'cpu_info', lambda: dict(model='x', cpus=2,
                                                                  bf16=['amx_bf16'], int8=[]))
    import torchvision.ops   # the config's RoIAlign runs torchvision's kernel
    dtypes, tv_roi_align = [], torchvision.ops.roi_align   # the fp32 island: fp32 features
    monkeypatch.setattr(torchvision.ops, 'roi_align', lambda x, *a, **k: dtypes.append(
        (x.dtype, torch.is_autocast_enabled('cpu'))) or tv_roi_align(x, *a, **k))
    tool_main('test')([CPU_CONFIG, str(tiny_checkpoint), '--work-dir', str(tmp_path), '--amp',
                       '--data-root', str(coco_data), '--bootstrap', '0', *TINY_SIZE,
                       '--cfg-options', *TEST_OPTIONS])
    [test_dir] = tmp_path.glob('test_*')
    report = json.loads((test_dir / 'metrics.json').read_text())
    assert report['precision'] == 'bfloat16' and report['machine']['cpus'] > 0
    assert dtypes and set(dtypes) == {(torch.float32, True)}
