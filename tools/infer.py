"""Run a trained detector on images: painted PNGs and per-image JSON.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir outputs/infer]
        [--score-thr 0.3] [--device cpu|cuda:0]

INPUT is an image, a folder or a glob (quote it). ``OUT/vis/<name>`` holds the
painted images (masks, boxes, scores) and ``OUT/preds/<name>.json`` the
predictions scoring at least ``--score-thr`` (boxes xyxy, scores, labels, RLE
masks). Unreadable files are named and skipped; the exit status is then 1.
``tools/infer_onnx.py`` runs the same loop on an exported model.
"""
import argparse
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='image, folder or glob')
    parser.add_argument('--out-dir', default='outputs/infer')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='minimum score painted and written to the JSON (0-1)')
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    from pennfudan_vit.images import collect_images, exit_if_unreadable
    files = collect_images(args.input)
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.predict import infer_files
    from pennfudan_vit.detector import TorchDetector, load_detector, resolve_device
    cfg = load_config(args.config)
    model, _ = load_detector(cfg, args.checkpoint, resolve_device(args.device))
    done, failed = infer_files(TorchDetector(cfg, model), files, args.out_dir, args.score_thr,
                               'infer')
    print(f'[infer] {done} images -> {osp.join(args.out_dir, "vis")} (painted), '
          f'{osp.join(args.out_dir, "preds")} (JSON, score >= {args.score_thr})')
    exit_if_unreadable('infer', failed, len(files))


if __name__ == '__main__':
    main()
