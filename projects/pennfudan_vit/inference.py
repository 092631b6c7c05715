"""Inference on image files with mmdet's DetInferencer: painted PNGs and JSON."""
import os.path as osp
from typing import Dict, List, Tuple

from mmengine.config import Config

from .fileio import atomic_write_json
from .images import unreadable_reason


def filter_prediction(pred: Dict[str, list], score_thr: float) -> Dict[str, list]:
    """Keep the instances of a DetInferencer prediction dict scoring >= ``score_thr``."""
    keep = [i for i, s in enumerate(pred['scores']) if s >= score_thr]
    return {k: [v[i] for i in keep] if isinstance(v, list) and len(v) == len(pred['scores'])
            else v for k, v in pred.items()}


def infer_images(cfg: Config, checkpoint: str, files: List[str], out_dir: str,
                 score_thr: float, device: str) -> Tuple[int, List[Tuple[str, str]]]:
    """Paint ``out_dir/vis/<name>`` and write ``out_dir/preds/<stem>.json`` for each
    readable image; return the count done and the (path, reason) of those skipped."""
    import torch
    from mmdet.apis import DetInferencer
    from .engine import check_checkpoint_matches

    inferencer = DetInferencer(model=cfg, weights=checkpoint, device=device,
                               show_progress=False)
    check_checkpoint_matches(inferencer.model, checkpoint, cfg.filename or 'the config')
    failed, done = [], 0
    for path in files:
        reason = unreadable_reason(path)
        if reason:
            print(f'[infer] skipped {path}: not a readable image ({reason})', flush=True)
            failed.append((path, reason))
            continue
        with torch.inference_mode():
            result = inferencer([path], out_dir=out_dir, pred_score_thr=score_thr,
                                no_save_pred=True, no_save_vis=False)
        pred = filter_prediction(result['predictions'][0], score_thr)
        stem = osp.splitext(osp.basename(path))[0]
        atomic_write_json(osp.join(out_dir, 'preds', f'{stem}.json'),
                          dict(pred, score_thr=score_thr, image=path))
        done += 1
    return done, failed
