"""tools/infer.py on a tiny trained model: outputs where the help says, the score filter,
unreadable images named and skipped, strict checkpoints."""
import json

import pytest

from helpers import CPU_CONFIG, ROOT, tool_main

infer = tool_main('infer')


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


def test_skips_unreadable_files_and_filters_by_score(tiny_checkpoint, image_folder, tmp_path,
                                                     capsys):
    folder, good = image_folder
    out = tmp_path / 'infer'
    with pytest.raises(SystemExit) as exit_:
        infer([CPU_CONFIG, str(tiny_checkpoint), str(folder), '--out-dir', str(out),
               '--score-thr', '0.05', '--device', 'cpu'])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines()[-1].startswith(
        '[infer] error: 2 of 4 files could not be read')
    assert 'a_text_file.png' in captured.out and 'b_truncated.png' in captured.out
    for p in good:
        assert (out / 'vis' / p.name).read_bytes()[:4] == b'\x89PNG'
        pred = json.loads((out / 'preds' / f'{p.stem}.json').read_text())
        assert set(pred) == {'bboxes', 'scores', 'labels', 'masks', 'score_thr', 'image'}
        assert all(s >= 0.05 for s in pred['scores'])
        assert len(pred['bboxes']) == len(pred['scores']) == len(pred['masks'])
    assert sorted(p.name for p in (out / 'preds').iterdir()) == sorted(
        f'{p.stem}.json' for p in good)


@pytest.mark.parametrize('args,message', [
    (['--score-thr', '1000'], '--score-thr must be in [0, 1], got 1000.0'),
    (['--score-thr', '-5'], '--score-thr must be in [0, 1], got -5.0'),
    (['--device', 'tpu'], '--device tpu: give cpu, cuda or cuda:N'),
])
def test_bad_arguments_are_one_line(tiny_checkpoint, image_folder, tmp_path, capsys, args,
                                    message):
    with pytest.raises(SystemExit) as exit_:
        infer([CPU_CONFIG, str(tiny_checkpoint), str(image_folder[0]), '--out-dir',
               str(tmp_path / 'o'), *args])
    assert exit_.value.code == 2
    assert capsys.readouterr().err == f'error: {message}\n'
    assert not (tmp_path / 'o').exists()


def test_checkpoint_of_another_model_is_refused(tiny_checkpoint, coco_data, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        infer([str(ROOT / 'configs' / 'vit-s_mrcnn_pennfudan.py'), str(tiny_checkpoint),
               str(coco_data / 'PNGImages' / 'FudanPed00001.png'), '--out-dir',
               str(tmp_path / 'o')])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert 'does not match config' in line and 'vit-s_mrcnn_pennfudan.py' in line, line
    assert 'of another shape' in line and 'deit-tiny_mrcnn_pennfudan_cpu.py' in line
    assert not (tmp_path / 'o').exists()
