"""A video as INPUT of tools/infer.py and tools/infer_onnx.py: a painted video of the same
size, frame rate and length, one JSON line per processed frame with the model's detections,
one-line errors for a file that is no video, and a cut-short video kept up to where it
ends (exit status 1)."""
import json
import sys

import cv2
import numpy as np
import pytest
from pycocotools import mask as mask_util

from helpers import CPU_CONFIG, tool_main
from pennfudan_vit.deploy.compare import match_predictions
from pennfudan_vit.deploy.image_ops import load_image
from pennfudan_vit.deploy.outputs import paint

infer = tool_main('infer')
infer_onnx = tool_main('infer_onnx')
FPS, SIZE, N_FRAMES = 10, (160, 120), 12  # (width, height)


def write_clip(path, real_images, fourcc):
    """A pedestrian image panning sideways, N_FRAMES frames at FPS."""
    base = cv2.resize(cv2.cvtColor(load_image(str(real_images[0])), cv2.COLOR_RGB2BGR), SIZE)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), FPS, SIZE)
    assert writer.isOpened()
    for i in range(N_FRAMES):
        writer.write(np.roll(base, 4 * i, axis=1))
    writer.release()
    return path


def read_frames(path):
    cap = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB))
    fps = cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return frames, fps


def read_lines(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def as_prediction(line):
    """A JSON line's detections as the predictors return them."""
    return dict(boxes=np.array(line['bboxes'], np.float32).reshape(-1, 4),
                scores=np.array(line['scores']), labels=np.array(line['labels']),
                masks=np.stack([mask_util.decode(m) for m in line['masks']]).astype(bool))


@pytest.fixture(scope='module')
def clip_avi(tmp_path_factory, real_images):
    return write_clip(tmp_path_factory.mktemp('video') / 'walk.avi', real_images, 'MJPG')


def test_onnx_video_gives_the_pytorch_detections_per_frame(cpu_onnx, cpu_reference, clip_avi,
                                                           tmp_path, capsys):
    out = tmp_path / 'out'
    infer_onnx([str(cpu_onnx), str(clip_avi), '--out-dir', str(out), '--score-thr', '0.3',
                '--every', '3'])
    assert sorted(p.name for p in out.iterdir()) == ['walk.jsonl', 'walk.mp4']  # no temp left
    painted, fps = read_frames(out / 'walk.mp4')
    assert len(painted) == N_FRAMES and fps == FPS
    assert painted[0].shape == (SIZE[1], SIZE[0], 3)
    lines = read_lines(out / 'walk.jsonl')
    assert [(d['frame'], d['time']) for d in lines] == [(i, i / FPS)
                                                        for i in range(0, N_FRAMES, 3)]
    frames, _ = read_frames(clip_avi)
    ref = cpu_reference(frames[9])  # the model saw the RGB frame the decoder gave
    keep = ref['scores'] >= 0.3
    stats = match_predictions(as_prediction(lines[3]), {k: v[keep] for k, v in ref.items()})
    assert stats['n_test'] == stats['n_ref'] == stats['matched'] > 0, stats
    assert stats['min_box_iou'] > 0.99 and stats['max_score_diff'] < 1e-3, stats
    # each frame is painted with the latest detections (up to the video codec's loss)
    for i in (0, 2):
        want = np.asarray(paint(frames[i], as_prediction(lines[0]), cpu_reference.class_names,
                                cpu_reference.palette), int)
        error = np.abs(painted[i] - want).mean()
        assert error < 0.25 * np.abs(painted[i] - frames[i].astype(int)).mean(), error
    assert 'walk.mp4' in capsys.readouterr().out


@pytest.mark.slow   # the same video loop as the ONNX test, behind the PyTorch predictor
def test_pytorch_video_every_fifth_frame(cpu_checkpoint, real_images, tmp_path, capsys):
    clip = write_clip(tmp_path / 'walk.mp4', real_images, 'mp4v')
    out = tmp_path / 'out'
    infer([CPU_CONFIG, str(cpu_checkpoint), str(clip), '--out-dir', str(out), '--every', '5',
           '--score-thr', '0.05', '--device', 'cpu'])
    painted, fps = read_frames(out / 'walk.mp4')
    assert len(painted) == N_FRAMES and fps == FPS
    assert painted[0].shape == (SIZE[1], SIZE[0], 3)
    lines = read_lines(out / 'walk.jsonl')
    assert [(d['frame'], d['time']) for d in lines] == [(0, 0), (5, 0.5), (10, 1)]
    for line in lines:
        assert set(line) == {'frame', 'time', 'labels', 'scores', 'bboxes', 'masks'}
        assert line['scores'] and min(line['scores']) >= 0.05
        assert len(line['bboxes']) == len(line['labels']) == len(line['masks'])
    assert f'{N_FRAMES} frames (3 run through the model)' in capsys.readouterr().out


def test_video_cut_short_keeps_the_frames_read(cpu_onnx, clip_avi, tmp_path, capsys):
    data = clip_avi.read_bytes()
    cut = tmp_path / 'cut.avi'
    cut.write_bytes(data[:len(data) // 2])  # the header still announces all the frames
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as exit_:
        infer_onnx([str(cpu_onnx), str(cut), '--out-dir', str(out)])
    assert exit_.value.code == 1
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith(f'[infer_onnx] error: video {cut} ended after '), last
    assert f'of the {N_FRAMES} frames it announces' in last, last
    painted, fps = read_frames(out / 'cut.mp4')  # a complete, playable file
    assert 0 < len(painted) < N_FRAMES and fps == FPS
    assert [d['frame'] for d in read_lines(out / 'cut.jsonl')] == list(range(len(painted)))
    assert sorted(p.name for p in out.iterdir()) == ['cut.jsonl', 'cut.mp4']


@pytest.mark.parametrize('tool', ['infer', 'infer_onnx'])
def test_unreadable_video_is_one_line_before_the_model(tool, cpu_checkpoint, tmp_path, capsys):
    bad = tmp_path / 'broken.mp4'
    bad.write_bytes(np.random.default_rng(0).bytes(4000))
    # infer_onnx gets no model at all: the video must be refused before it is loaded
    model = ([CPU_CONFIG, str(cpu_checkpoint)] if tool == 'infer'
             else [str(tmp_path / 'not_a_model.onnx')])
    with pytest.raises(SystemExit) as exit_:
        tool_main(tool)([*model, str(bad), '--out-dir', str(tmp_path / 'out')])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f'error: video {bad} cannot be read'), line
    assert not (tmp_path / 'out').exists()


@pytest.mark.parametrize('case,message', [
    ('every_images', '--every applies to a video INPUT'),
    ('every_zero', '--every must be at least 1, got 0'),
    ('no_opencv', 'video input needs OpenCV and tqdm'),
    ('replace_input', 'the painted video would replace the input'),
])
def test_video_mistakes_are_one_line(case, message, real_images, tmp_path, capsys,
                                     monkeypatch):
    clip = write_clip(tmp_path / 'walk.mp4', real_images, 'mp4v')
    args = {'every_images': [str(real_images[0]), '--every', '2'],
            'every_zero': [str(clip), '--every', '0'],
            'no_opencv': [str(clip)],
            'replace_input': [str(clip), '--out-dir', str(tmp_path)]}[case]
    if case == 'no_opencv':
        monkeypatch.setitem(sys.modules, 'cv2', None)  # as in the torch-free runtime
    with pytest.raises(SystemExit) as exit_:
        infer_onnx([str(tmp_path / 'not_a_model.onnx'), args[0], '--out-dir',
                    str(tmp_path / 'out'), *args[1:]])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(f'error: {message}'), line
    assert clip.stat().st_size > 0
