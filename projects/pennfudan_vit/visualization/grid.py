"""A qualitative grid: split images, ground truth beside predictions, one PNG."""
import os.path as osp

import numpy as np
from mmengine.config import Config

from ..deploy.image_ops import load_image
from ..deploy.outputs import paint
from ..deploy.predict import keep_above
from ..detector import TorchDetector, load_detector


def qualitative_grid(cfg: Config, checkpoint: str, split: str, n: int, score_thr: float,
                     out: str, device: str) -> str:
    """Paint the first ``n`` images of ``split``: ground truth left, predictions right."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from pycocotools.coco import COCO
    ds = cfg[f'{split}_dataloader'].dataset
    coco = COCO(osp.join(ds.data_root, ds.ann_file))
    img_ids = sorted(coco.getImgIds())[:n]
    detector = TorchDetector(cfg, load_detector(cfg, checkpoint, device)[0])
    label_of = {c['id']: detector.class_names.index(c['name'])
                for c in coco.dataset['categories'] if c['name'] in detector.class_names}
    fig, axes = plt.subplots(len(img_ids), 2, figsize=(8, 3.6 * len(img_ids)), squeeze=False)
    for row, img_id in enumerate(img_ids):
        info = coco.loadImgs(img_id)[0]
        image = load_image(osp.join(ds.data_root, ds.data_prefix.get('img', ''),
                                    info['file_name']))
        anns = [a for a in coco.loadAnns(coco.getAnnIds(imgIds=img_id)) if not a.get('iscrowd')]
        truth = dict(boxes=np.array([[x, y, x + w, y + h] for x, y, w, h in
                                     (a['bbox'] for a in anns)]).reshape(-1, 4),
                     labels=np.array([label_of[a['category_id']] for a in anns], int),
                     masks=np.array([coco.annToMask(a) > 0 for a in anns]))
        pred = keep_above(detector(image), score_thr)
        for ax, what, title in (
                (axes[row, 0], truth, f'{info["file_name"]}: ground truth ({len(anns)})'),
                (axes[row, 1], pred, f'prediction (score >= {score_thr}, '
                                     f'{len(pred["scores"])})')):
            ax.imshow(paint(image, what, detector.class_names, detector.palette))
            ax.set_title(title, fontsize=9)
            ax.axis('off')
    fig.tight_layout()
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
