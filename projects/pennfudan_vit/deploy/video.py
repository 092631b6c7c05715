"""Video in, painted video out: the frame loop of ``tools/infer.py`` and
``tools/infer_onnx.py`` for a video file, for any predictor (no torch).

OpenCV reads and writes the video (FFmpeg inside, as ``mmcv.VideoReader`` and mmdet's
video demo use it) and tqdm shows the progress; both are imported only when a video is
given, so the image loop runs without them (``requirements/video.txt`` adds them to the
torch-free runtime).
"""
import contextlib
import json
import math
import os
import os.path as osp
import secrets
from dataclasses import dataclass
from typing import IO, Iterator, Optional, Tuple

import numpy as np

from ..errors import UserError
from ..fileio import atomic_write
from .outputs import Prediction, Predictor, keep_above, paint, prediction_dict

VIDEO_EXTS = ('.mp4', '.avi', '.mov', '.mkv', '.webm', '.m4v', '.mpg', '.mpeg', '.wmv')
# MPEG-4 Part 2 in MP4: what every FFmpeg build of OpenCV writes (pip wheels have no H.264)
FOURCC = 'mp4v'
DEFAULT_FPS = 25.0  # for a container that announces no frame rate


def is_video(spec: str) -> bool:
    """Whether an INPUT names a video file (by its extension) rather than images."""
    return spec.lower().endswith(VIDEO_EXTS) and not osp.isdir(spec)


def _libs():
    """(cv2, tqdm), or the one line that says how to install them."""
    # FFmpeg's own messages ("moov atom not found") would come before our one-line error;
    # read once, when OpenCV first opens a video (set it to debug a file)
    os.environ.setdefault('OPENCV_FFMPEG_LOGLEVEL', '-8')
    try:
        import cv2
        from tqdm import tqdm
    except ImportError as err:
        raise UserError(f'video input needs OpenCV and tqdm ({err}): pip install -r '
                        'requirements/video.txt') from None
    return cv2, tqdm


@dataclass(frozen=True)
class VideoInfo:
    """What a video's container announces, and the size of its first frame."""
    fps: float  # 0 when the container has none
    width: int
    height: int
    frame_count: int  # 0 when unknown; may be wrong, the loop reads until the decoder stops


def output_paths(path: str, out_dir: str) -> Tuple[str, str]:
    """``OUT/<stem>.mp4`` (painted video) and ``OUT/<stem>.jsonl`` (detections)."""
    stem = osp.splitext(osp.basename(path))[0]
    return osp.join(out_dir, f'{stem}.mp4'), osp.join(out_dir, f'{stem}.jsonl')


def check_video(path: str, out_dir: str) -> VideoInfo:
    """Open ``path`` and decode its first frame, before any model is loaded: a
    :class:`UserError` naming the file when it cannot, or when the output would replace it."""
    cv2, _ = _libs()
    if not osp.isfile(path):
        raise UserError(f'video {path} does not exist')
    video_out = output_paths(path, out_dir)[0]
    if osp.exists(video_out) and osp.samefile(video_out, path):
        raise UserError(f'the painted video would replace the input {path}: give another '
                        '--out-dir')
    cap = cv2.VideoCapture(path)
    try:
        ok, frame = cap.read() if cap.isOpened() else (False, None)
        fps, count = cap.get(cv2.CAP_PROP_FPS), cap.get(cv2.CAP_PROP_FRAME_COUNT)
    finally:
        cap.release()
    if not ok:
        raise UserError(f'video {path} cannot be read (damaged, or not a format OpenCV '
                        f'decodes): give a video file such as {", ".join(VIDEO_EXTS[:3])}')
    return VideoInfo(fps if math.isfinite(fps) and fps > 0 else 0.0, frame.shape[1],
                     frame.shape[0], int(count) if math.isfinite(count) and count > 0 else 0)


@contextlib.contextmanager
def _atomic_video(path: str, fps: float, size: Tuple[int, int]) -> Iterator:
    """A cv2.VideoWriter on a hidden name beside ``path``, renamed to ``path`` when the
    block ends normally and removed when it raises."""
    cv2, _ = _libs()
    # OpenCV picks the container by the extension and creates the file itself
    tmp = osp.join(osp.dirname(path), f'.{osp.basename(path)}.{secrets.token_hex(4)}.tmp.mp4')
    writer = cv2.VideoWriter(tmp, cv2.VideoWriter_fourcc(*FOURCC), fps, size)
    try:
        if not writer.isOpened():
            raise UserError(f'cannot write {path}: this OpenCV build has no {FOURCC} encoder, '
                            'or the folder is not writable')
        yield writer
        writer.release()  # writes the MP4 index; the file is complete only now
        with open(tmp, 'rb+') as f:
            os.fsync(f.fileno())
        os.replace(tmp, path)
    finally:
        writer.release()
        if osp.exists(tmp):
            os.remove(tmp)


@dataclass(frozen=True)
class VideoResult:
    frames: int  # frames read and written
    processed: int  # frames the model ran on (one JSON line each)
    announced: int  # the container's frame count (0: unknown)
    video: str
    jsonl: str

    @property
    def ended_early(self) -> bool:
        """The decoder stopped before the frame count the container announces."""
        return self.frames < self.announced


def infer_video(predict: Predictor, path: str, out_dir: str, score_thr: float, tool: str,
                every: int = 1) -> VideoResult:
    """Paint every frame of the video ``path`` into ``OUT/<stem>.mp4`` (same size and frame
    rate) and write one JSON line per processed frame (every ``every``-th, from frame 0) to
    ``OUT/<stem>.jsonl``: ``frame`` (index), ``time`` (index / fps, seconds) and the
    instances scoring at least ``score_thr`` as in the per-image JSON. The frames between
    are painted with the latest detections. A video that ends early keeps what was read."""
    cv2, tqdm = _libs()
    info = check_video(path, out_dir)
    fps = info.fps or DEFAULT_FPS
    if not info.fps:
        print(f'[{tool}] {path} announces no frame rate: written at {fps:g} fps', flush=True)
    video_out, jsonl_out = output_paths(path, out_dir)
    os.makedirs(out_dir, exist_ok=True)
    counts = []

    def run(jsonl: IO[bytes]) -> None:
        cap = cv2.VideoCapture(path)
        bar = tqdm(total=info.frame_count or None, unit='frame', desc=f'[{tool}] '
                   f'{osp.basename(path)}', dynamic_ncols=True)
        frames = processed = 0
        pred: Optional[Prediction] = None
        try:
            with _atomic_video(video_out, fps, (info.width, info.height)) as writer:
                while True:
                    ok, bgr = cap.read()
                    if not ok:
                        break
                    rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
                    if frames % every == 0:
                        pred = keep_above(predict(rgb), score_thr)
                        line = dict(frame=frames, time=round(frames / fps, 6),
                                    **prediction_dict(pred))
                        jsonl.write((json.dumps(line) + '\n').encode())
                        processed += 1
                    canvas = paint(rgb, pred, predict.class_names, predict.palette)
                    writer.write(cv2.cvtColor(np.asarray(canvas), cv2.COLOR_RGB2BGR))
                    frames += 1
                    if frames == info.frame_count + 1:
                        bar.total = None  # the container under-counted: no time left to show
                    bar.update()
        finally:
            bar.close()
            cap.release()
        counts.extend((frames, processed))

    atomic_write(jsonl_out, run)
    return VideoResult(*counts, info.frame_count, video_out, jsonl_out)
