"""COCO AP of a weight snapshot (ours or the torchvision reference) on a split.

Both systems predict the split's original images at the config's test size and are
scored by the same code: COCO result entries as mmdet's ``CocoMetric`` writes them,
then COCOeval once over the split with percentile-bootstrap intervals.
"""
import copy
from typing import Any, Callable, Dict, Iterator, List, Tuple

import numpy as np
import torch
from mmengine.config import Config

from ..deploy.outputs import coco_results
from ..evaluation import bootstrap_coco_metrics
from .budget_train import reference_model_args
from .prepare import build_model
from .reference import build_reference


def _loader(cfg: Config, split: str):
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg[f'{split}_dataloader'])
    loader_cfg.update(num_workers=0, persistent_workers=False, batch_size=1)
    return Runner.build_dataloader(loader_cfg)


def _load(model: torch.nn.Module, path: str) -> Dict[str, Any]:
    snapshot = torch.load(path, map_location='cpu', weights_only=True)
    model.load_state_dict(snapshot['state_dict'], strict=True)
    return snapshot['meta']


def _results(cfg: Config, model: torch.nn.Module, path: str, split: str,
             predict: Callable[[torch.nn.Module, dict], Iterator[Tuple[int, dict]]]
             ) -> Tuple[List[dict], List[dict]]:
    """(bbox, segm) COCO results of ``model`` with the snapshot's weights on ``split``."""
    _load(model, path)
    model.eval()
    loader = _loader(cfg, split)
    cat_ids, bbox, segm = loader.dataset.cat_ids, [], []
    with torch.inference_mode():
        for data in loader:
            for img_id, pred in predict(model, data):
                b, s = coco_results(img_id, pred, cat_ids)
                bbox += b
                segm += s
    return bbox, segm


def _ours(model: torch.nn.Module, data: dict) -> Iterator[Tuple[int, dict]]:
    for sample in model.test_step(data):
        res = sample.pred_instances
        yield sample.img_id, dict(boxes=res.bboxes.numpy(), scores=res.scores.numpy(),
                                  labels=res.labels.numpy(),
                                  masks=res.masks.numpy().astype(bool))


def _reference(model: torch.nn.Module, data: dict) -> Iterator[Tuple[int, dict]]:
    # the original image: torchvision's transform resizes it to the test size as mmdet's
    # keep-ratio Resize does, and pastes boxes and masks back at the original size
    import mmcv
    for sample in data['data_samples']:
        rgb = mmcv.imread(sample.img_path, channel_order='rgb')
        image = torch.from_numpy(np.ascontiguousarray(rgb)).permute(2, 0, 1).float() / 255
        out = model([image])[0]
        yield sample.img_id, dict(boxes=out['boxes'].numpy(), scores=out['scores'].numpy(),
                                  labels=out['labels'].numpy() - 1,
                                  masks=(out['masks'][:, 0] > 0.5).numpy())


def predict_ours(cfg: Config, path: str, split: str = 'test') -> Tuple[List[dict], List[dict]]:
    """(bbox, segm) COCO results of our model with the snapshot's weights."""
    return _results(cfg, build_model(cfg, 'cpu'), path, split, _ours)


def predict_reference(cfg: Config, path: str,
                      split: str = 'test') -> Tuple[List[dict], List[dict]]:
    """(bbox, segm) COCO results of the torchvision reference with the snapshot's weights."""
    return _results(cfg, build_reference(**reference_model_args(cfg)), path, split,
                    _reference)


PREDICTORS = dict(ours=predict_ours, reference=predict_reference)


def evaluate_snapshot(cfg: Config, system: str, path: str, split: str = 'test',
                      n_boot: int = 1000) -> Dict[str, Any]:
    """bbox and segm AP / AP50 / AP75 (point and 95% bootstrap interval) of one snapshot."""
    bbox, segm = PREDICTORS[system](cfg, path, split)
    ann_file = cfg[f'{split}_evaluator'].ann_file
    out = {}
    for iou_type, dets in (('bbox', bbox), ('segm', segm)):
        res = bootstrap_coco_metrics(ann_file, dets, iou_type, n=n_boot)
        out[iou_type] = {name: dict(point=m.point, lower=m.lower, upper=m.upper)
                         for name, m in res.metrics.items()}
    out['detections'] = len(bbox)
    return out
