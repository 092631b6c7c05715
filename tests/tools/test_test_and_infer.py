"""tools/test.py, infer.py, plot_curves.py and qualitative_grid.py on a tiny model:
outputs where the help says, strict checkpoints, unreadable images."""
import json

import pytest

from helpers import CPU_CONFIG, TINY_SIZE, run_tool

TEST_OPTIONS = ['test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']


def last_line(proc):
    return proc.stderr.strip().splitlines()[-1]


def test_test_tool_writes_metrics_results_and_painted_images(tiny_checkpoint, coco_data,
                                                             tmp_path):
    out = run_tool('tools/test.py', CPU_CONFIG, tiny_checkpoint, '--work-dir', tmp_path,
                   '--data-root', coco_data, '--out', tmp_path / 'preds.pkl',
                   '--bootstrap', '50', '--show-dir', 'painted', *TINY_SIZE,
                   '--cfg-options', *TEST_OPTIONS)
    assert 'Average Precision' in out.stdout + out.stderr
    [test_dir] = tmp_path.glob('test_*')
    report = json.loads((test_dir / 'metrics.json').read_text())
    for key in ('coco/bbox_mAP', 'coco/segm_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP_l'):
        assert 0.0 <= report['metrics'][key] <= 1.0
    assert set(report['result_files']) == {'bbox', 'segm'} and 'bootstrap' in report
    assert (tmp_path / 'preds.pkl').stat().st_size > 0
    painted = list((test_dir / 'painted').glob('*.png'))
    assert len(painted) == 17, list(test_dir.rglob('*.png'))[:3]
    assert f'painted images: {test_dir / "painted"}' in out.stdout


def test_checkpoint_of_another_model_is_refused(tiny_checkpoint, coco_data, tmp_path):
    for tool, extra in (('tools/test.py', ['--data-root', coco_data, '--work-dir', tmp_path]),
                        ('tools/infer.py', [coco_data / 'PNGImages' / 'FudanPed00001.png',
                                            '--out-dir', tmp_path / 'o'])):
        proc = run_tool(tool, 'configs/vit-s_mrcnn_pennfudan.py', tiny_checkpoint, *extra,
                        check=False)
        assert proc.returncode == 2, proc.stderr[-3000:]
        line = last_line(proc)
        assert 'does not match config configs/vit-s_mrcnn_pennfudan.py' in line, line
        assert 'of another shape' in line and 'deit-tiny_mrcnn_pennfudan_cpu.py' in line
    assert not list(tmp_path.iterdir())


@pytest.fixture()
def image_folder(coco_data, tmp_path):
    folder = tmp_path / 'imgs'
    folder.mkdir()
    good = sorted((coco_data / 'PNGImages').iterdir())[:2]
    for p in good:
        (folder / p.name).symlink_to(p.resolve())
    (folder / 'a_text_file.png').write_text('not an image')
    (folder / 'b_truncated.png').write_bytes(good[0].read_bytes()[:2000])
    return folder, good


def test_infer_skips_unreadable_files_and_filters_by_score(tiny_checkpoint, image_folder,
                                                           tmp_path):
    folder, good = image_folder
    out = tmp_path / 'infer'
    proc = run_tool('tools/infer.py', CPU_CONFIG, tiny_checkpoint, folder, '--out-dir', out,
                    '--score-thr', '0.05', '--device', 'cpu', check=False)
    assert proc.returncode == 1, proc.stderr[-3000:]
    assert last_line(proc).startswith('[infer] error: 2 of 4 files could not be read')
    assert 'a_text_file.png' in proc.stdout and 'b_truncated.png' in proc.stdout
    for p in good:
        assert (out / 'vis' / p.name).stat().st_size > 0
        pred = json.loads((out / 'preds' / f'{p.stem}.json').read_text())
        assert {'bboxes', 'scores', 'labels', 'masks'} <= set(pred)
        assert all(s >= 0.05 for s in pred['scores'])
        assert len(pred['bboxes']) == len(pred['scores']) == len(pred['masks'])


@pytest.mark.parametrize('thr', ['1000', '-5'])
def test_infer_rejects_a_score_threshold_outside_0_1(tiny_checkpoint, image_folder, thr):
    proc = run_tool('tools/infer.py', CPU_CONFIG, tiny_checkpoint, image_folder[0],
                    '--score-thr', thr, check=False)
    assert proc.returncode == 2 and '--score-thr must be in [0, 1]' in last_line(proc)


def test_plot_and_grid_tools(tiny_checkpoint, coco_data, tmp_path):
    run_tool('tools/plot_curves.py', tiny_checkpoint.parent, '--out', tmp_path / 'curves.png')
    assert (tmp_path / 'curves.png').read_bytes()[:4] == b'\x89PNG'
    run_tool('tools/qualitative_grid.py', CPU_CONFIG, tiny_checkpoint, '--data-root',
             coco_data, '--n', '2', '--score-thr', '0.0', '--out', tmp_path / 'grid.png')
    assert (tmp_path / 'grid.png').read_bytes()[:4] == b'\x89PNG'
    missing = run_tool('tools/plot_curves.py', tmp_path, check=False)
    assert missing.returncode == 2 and 'scalars.json' in last_line(missing)
