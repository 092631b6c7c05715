"""A qualitative grid: N split images, predicted masks beside ground truth, one PNG.

    python tools/qualitative_grid.py CONFIG CHECKPOINT [--n 6] [--split test]
        [--score-thr 0.5] [--data-root DIR] [--out grid.png]

Left column: ground-truth instances from the split's COCO JSON; right column:
predictions above --score-thr (mask, box and score), each instance its colour.
"""
import argparse
import os.path as osp
import sys

import numpy as np


def _paint(ax, img: np.ndarray, masks, boxes, labels, title: str) -> None:
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('--n', type=int, default=6)
    parser.add_argument('--split', default='test', choices=['train', 'val', 'test'])
    parser.add_argument('--score-thr', type=float, default=0.5)
    parser.add_argument('--data-root', help='dataset root (converter output)')
    parser.add_argument('--device', default=None)
    parser.add_argument('--out', help='PNG path (default: next to the checkpoint)')
    args = parser.parse_args()

    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import mmcv
    import torch
    from mmengine.config import Config
    from pycocotools.coco import COCO

    import pennfudan_vit  # noqa: F401
    import mmpretrain.models  # noqa: F401
    from mmdet.apis import inference_detector, init_detector
    from pennfudan_vit.apis import ConfigCheckError, check_dataset_files, set_data_root

    try:
        for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{what} {path} does not exist')
        cfg = Config.fromfile(args.config)
        if args.data_root:
            set_data_root(cfg, args.data_root)
        loader = f'{args.split}_dataloader'
        check_dataset_files(cfg, [loader])
    except (FileNotFoundError, ConfigCheckError) as e:
        sys.exit(f'error: {e}')
    ds = cfg[loader].dataset
    coco = COCO(osp.join(ds.data_root, ds.ann_file))
    img_ids = sorted(coco.getImgIds())[:args.n]
    cfg.model.backbone.pop('init_cfg', None)
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    model = init_detector(cfg, args.checkpoint, device=device)

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
        keep = pred.scores >= args.score_thr
        pred = pred[keep]
        _paint(axes[row, 1], img, pred.masks.cpu().numpy(), pred.bboxes.cpu().numpy(),
               [f'{s:.2f}' for s in pred.scores.tolist()],
               f'prediction (score >= {args.score_thr}, {len(pred)})')
    fig.tight_layout()
    out = args.out or osp.join(osp.dirname(osp.abspath(args.checkpoint)), f'grid_{args.split}.png')
    fig.savefig(out, dpi=90)
    print(f'[qualitative_grid] wrote {out}')


if __name__ == '__main__':
    main()
