"""The one inference loop over image files, for any predictor (PyTorch or ONNX Runtime):
per-image JSON and PNGs, or COCO result files (no torch)."""
import json
import os.path as osp
import time
from typing import Callable, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image

from ..errors import UserError
from ..fileio import atomic_write, atomic_write_json, read_json
from .image_ops import load_image
from .outputs import coco_results, paint, prediction_dict

Prediction = Dict[str, np.ndarray]
# an RGB uint8 (H, W, 3) image -> boxes, scores, labels, masks; with .class_names, .palette
Predictor = Callable[[np.ndarray], Prediction]


def keep_above(pred: Prediction, score_thr: float) -> Prediction:
    """The instances scoring at least ``score_thr``."""
    keep = pred['scores'] >= score_thr
    return {k: v[keep] for k, v in pred.items()}


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
