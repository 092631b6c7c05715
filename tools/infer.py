"""Run a trained detector on images: painted PNGs and per-image JSON.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir outputs/infer]
        [--score-thr 0.3] [--device cpu|cuda:0] [--batch-size 1]

INPUT is an image, a folder or a glob (quote it). Uses mmdet's DetInferencer:
``OUT/vis/<name>`` holds the painted images (masks, boxes, scores) and
``OUT/preds/<name>.json`` the predictions (boxes xyxy, scores, RLE masks).
"""
import argparse
import glob
import os
import os.path as osp
import sys
from typing import List

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def collect_inputs(spec: str) -> List[str]:
    """Image paths from a file, a folder or a glob, sorted."""
    if osp.isdir(spec):
        files = [osp.join(spec, f) for f in os.listdir(spec)]
    elif any(c in spec for c in '*?['):
        files = glob.glob(spec, recursive=True)
    elif osp.isfile(spec):
        files = [spec]
    else:
        raise FileNotFoundError(f'input {spec} is not an image, a folder or a glob that matches')
    files = sorted(f for f in files if f.lower().endswith(IMG_EXTS) and osp.isfile(f))
    if not files:
        raise FileNotFoundError(f'no images ({", ".join(IMG_EXTS)}) found in {spec}')
    return files


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='image, folder or glob')
    parser.add_argument('--out-dir', default='outputs/infer')
    parser.add_argument('--score-thr', type=float, default=0.3)
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')
    parser.add_argument('--batch-size', type=int, default=1)
    args = parser.parse_args()

    import torch
    import pennfudan_vit  # noqa: F401
    import mmpretrain.models  # noqa: F401
    from mmdet.apis import DetInferencer
    try:
        files = collect_inputs(args.input)
        for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
            if not osp.isfile(path):
                raise FileNotFoundError(f'{what} {path} does not exist')
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    device = args.device or ('cuda:0' if torch.cuda.is_available() else 'cpu')
    inferencer = DetInferencer(model=args.config, weights=args.checkpoint, device=device,
                               show_progress=True)
    with torch.inference_mode():
        inferencer(files, batch_size=args.batch_size, out_dir=args.out_dir,
                   pred_score_thr=args.score_thr, no_save_pred=False, no_save_vis=False)
    print(f'[infer] {len(files)} images -> {osp.join(args.out_dir, "vis")} (painted), '
          f'{osp.join(args.out_dir, "preds")} (JSON)')


if __name__ == '__main__':
    main()
