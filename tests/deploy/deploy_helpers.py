"""Helpers of the deploy tests (importable as ``deploy_helpers``)."""
import torch

from helpers import CPU_CONFIG, ROOT

CPU_SIZE = (256, 256)
CONFIGS = {
    'cpu': CPU_CONFIG,
    'main': str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py'),
    'r50': str(ROOT / 'configs' / 'r50-fpn_mrcnn_pennfudan.py'),
}


def build_random(config: str, seed: int = 0):
    """(cfg, detector in eval mode) with torch's seeded default initialisation, no
    ``init_weights``: near-uniform class scores make every proposal a detection."""
    from pennfudan_vit.config import drop_pretrained, load_config
    from pennfudan_vit.detector import build_model
    cfg = load_config(config)
    drop_pretrained(cfg)
    torch.manual_seed(seed)
    return cfg, build_model(cfg).eval()


def assert_same_detections(pred_json, reference: dict, score_thr: float) -> None:
    """A ``preds/<stem>.json`` of the inference tools holds ``reference``'s detections
    scoring at least ``score_thr`` (boxes, scores, masks as the PyTorch model's)."""
    import json

    import numpy as np
    from pycocotools import mask as mask_util

    from pennfudan_vit.deploy.compare import match_predictions
    pred = json.loads(pred_json.read_text())
    assert set(pred) == {'labels', 'scores', 'bboxes', 'masks', 'score_thr', 'image'}
    got = dict(boxes=np.array(pred['bboxes'], np.float32).reshape(-1, 4),
               scores=np.array(pred['scores']), labels=np.array(pred['labels']),
               masks=np.stack([mask_util.decode(m) for m in pred['masks']]).astype(bool))
    keep = reference['scores'] >= score_thr
    stats = match_predictions(got, {k: v[keep] for k, v in reference.items()})
    assert stats['n_test'] == stats['n_ref'] == stats['matched'] > 0, stats
    assert stats['min_box_iou'] > 0.99 and stats['max_score_diff'] < 1e-3, stats
    assert stats['min_mask_iou'] > 0.9, stats
