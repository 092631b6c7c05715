"""The inference loops of tools/infer.py and tools/infer_onnx.py, for any predictor
(PyTorch or ONNX Runtime): INPUT routed to images (per-image JSON and PNGs) or a video
(``video.py``), and COCO result files (no torch)."""
import json
import os.path as osp
import sys
import time
from typing import Callable, List, Sequence, Tuple

from PIL import Image

from ..errors import UserError
from ..fileio import atomic_write, atomic_write_json, read_json
from ..images import collect_images, exit_if_unreadable
from .image_ops import load_image
from .outputs import Predictor, coco_results, keep_above, paint, prediction_dict
from .video import VIDEO_EXTS, check_video, infer_video, is_video


def infer_input(spec: str, load_predictor: Callable[[], Predictor], out_dir: str,
                score_thr: float, tool: str, every: int = 1) -> None:
    """What the inference tools do with INPUT: a video file -> :func:`infer_video`, an
    image, folder or glob -> :func:`infer_files`. INPUT is checked before
    ``load_predictor()`` loads the model; exits 1 when some of it could not be read."""
    if every < 1:
        raise UserError(f'--every must be at least 1, got {every}')
    if not is_video(spec):
        if every != 1:
            raise UserError(f'--every applies to a video INPUT; {spec} is not one '
                            f'(video extensions: {", ".join(VIDEO_EXTS)})')
        files = collect_images(spec)
        done, failed = infer_files(load_predictor(), files, out_dir, score_thr, tool)
        print(f'[{tool}] {done} images -> {osp.join(out_dir, "vis")} (painted), '
              f'{osp.join(out_dir, "preds")} (JSON, score >= {score_thr})')
        exit_if_unreadable(tool, failed, len(files))
        return
    check_video(spec, out_dir)
    res = infer_video(load_predictor(), spec, out_dir, score_thr, tool, every)
    print(f'[{tool}] {res.frames} frames ({res.processed} run through the model) -> '
          f'{res.video} (painted), {res.jsonl} (JSON lines, score >= {score_thr})')
    if res.ended_early:
        print(f'[{tool}] error: video {spec} ended after {res.frames} of the {res.announced} '
              'frames it announces (damaged or cut short): the frames read are in '
              f'{res.video} and {res.jsonl}', file=sys.stderr)
        sys.exit(1)


def infer_files(predict: Predictor, files: Sequence[str], out_dir: str, score_thr: float,
                tool: str) -> Tuple[int, List[Tuple[str, str]]]:
    """Write ``out_dir/vis/<name>`` (painted) and ``out_dir/preds/<stem>.json`` (instances
    scoring at least ``score_thr``) per readable image; return the count done and the
    (path, reason) of the files skipped as unreadable."""
    done, failed = 0, []
    for path in files:
        try:
            image = load_image(path)
        except UserError as err:
            print(f'[{tool}] skipped {path}: {err}', flush=True)
            failed.append((path, str(err)))
            continue
        pred = keep_above(predict(image), score_thr)
        name = osp.basename(path)
        canvas = paint(image, pred, predict.class_names, predict.palette)
        fmt = Image.registered_extensions().get(osp.splitext(name)[1].lower(), 'PNG')
        atomic_write(osp.join(out_dir, 'vis', name), lambda f: canvas.save(f, format=fmt))
        atomic_write_json(osp.join(out_dir, 'preds', f'{osp.splitext(name)[0]}.json'),
                          dict(prediction_dict(pred), score_thr=score_thr, image=path))
        done += 1
    return done, failed


def infer_coco(predict: Predictor, gt_json: str, images_dir: str,
               prefix: str) -> Tuple[str, str]:
    """Run every image of a COCO ground-truth file; write ``PREFIX.bbox.json`` and
    ``PREFIX.segm.json`` as mmdet's ``CocoMetric`` does (all detections kept)."""
    gt = read_json(gt_json, '--coco ground-truth')
    if not isinstance(gt, dict) or not {'images', 'categories'} <= set(gt):
        raise UserError(f'--coco {gt_json} is not a COCO file (needs "images" and '
                        '"categories")')
    by_name = {c['name']: c['id'] for c in gt['categories']}
    missing = [n for n in predict.class_names if n not in by_name]
    if missing:
        raise UserError(f'--coco {gt_json} has no category {missing[0]!r} (it has '
                        f'{sorted(by_name)}): use the ground truth the model was trained for')
    cat_ids = [by_name[n] for n in predict.class_names]
    paths = [(img['id'], osp.join(images_dir, img['file_name'])) for img in gt['images']]
    absent = [p for _, p in paths if not osp.isfile(p)]
    if absent:
        raise UserError(f'{len(absent)} images of {gt_json} are not under --images '
                        f'{images_dir} (e.g. {absent[0]})')
    bbox, segm, start = [], [], time.time()
    for i, (image_id, path) in enumerate(paths, 1):
        b, s = coco_results(image_id, predict(load_image(path)), cat_ids)
        bbox += b
        segm += s
        if i % 20 == 0 or i == len(paths):
            print(f'[infer_onnx] {i}/{len(paths)} images, {time.time() - start:.0f} s',
                  flush=True)
    out = (f'{prefix}.bbox.json', f'{prefix}.segm.json')
    for path, entries in zip(out, (bbox, segm)):
        atomic_write(path, lambda f, e=entries: f.write(json.dumps(e).encode()))
    return out
