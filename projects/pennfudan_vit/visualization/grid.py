"""A qualitative grid: split images, ground truth beside predictions, one PNG."""
import os.path as osp
from typing import List, Sequence

import numpy as np
from mmengine.config import Config


def _paint(ax, img: np.ndarray, masks: Sequence[np.ndarray], boxes, labels: List[str],
           title: str) -> None:
    import matplotlib.pyplot as plt
    canvas = img.astype(np.float32).copy()
    cmap = plt.get_cmap('tab20')
    for i, m in enumerate(masks):
        color = np.array(cmap(i % 20)[:3]) * 255
        canvas[m > 0] = 0.45 * canvas[m > 0] + 0.55 * color
    ax.imshow(canvas.astype(np.uint8))
    for i, (b, text) in enumerate(zip(boxes, labels)):
        x0, y0, x1, y1 = b
        ax.add_patch(plt.Rectangle((x0, y0), x1 - x0, y1 - y0, fill=False,
                                   edgecolor=cmap(i % 20), linewidth=1.5))
        if text:
            ax.text(x0, y0 - 2, text, fontsize=7, color='white',
                    bbox=dict(facecolor=cmap(i % 20), alpha=0.8, pad=1, linewidth=0))
    ax.set_title(title, fontsize=9)
    ax.axis('off')


def qualitative_grid(cfg: Config, checkpoint: str, split: str, n: int, score_thr: float,
                     out: str, device: str) -> str:
    """Paint the first ``n`` images of ``split``: ground truth left, predictions right."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import mmcv
    import torch
    from mmdet.apis import inference_detector, init_detector
    from pycocotools.coco import COCO

    from ..engine import check_checkpoint_matches
    ds = cfg[f'{split}_dataloader'].dataset
    coco = COCO(osp.join(ds.data_root, ds.ann_file))
    img_ids = sorted(coco.getImgIds())[:n]
    model = init_detector(cfg, checkpoint, device=device)
    check_checkpoint_matches(model, checkpoint, cfg.filename or 'the config')

    fig, axes = plt.subplots(len(img_ids), 2, figsize=(8, 3.6 * len(img_ids)), squeeze=False)
    for row, img_id in enumerate(img_ids):
        info = coco.loadImgs(img_id)[0]
        path = osp.join(ds.data_root, ds.data_prefix.get('img', ''), info['file_name'])
        img = mmcv.imread(path, channel_order='rgb')
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id)) if not a.get('iscrowd')]
        gt_boxes = [(a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                     a['bbox'][1] + a['bbox'][3]) for a in anns]
        _paint(axes[row, 0], img, [coco.annToMask(a) for a in anns], gt_boxes,
               [''] * len(anns), f'{info["file_name"]}: ground truth ({len(anns)})')
        with torch.inference_mode():
            pred = inference_detector(model, mmcv.imread(path)).pred_instances
        pred = pred[pred.scores >= score_thr]
        _paint(axes[row, 1], img, pred.masks.cpu().numpy(), pred.bboxes.cpu().numpy(),
               [f'{s:.2f}' for s in pred.scores.tolist()],
               f'prediction (score >= {score_thr}, {len(pred)})')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
