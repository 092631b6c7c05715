"""Run a trained detector on images or a video: painted outputs and JSON detections.

    python tools/infer.py CONFIG CHECKPOINT INPUT [--out-dir outputs/infer]
        [--score-thr 0.3] [--device cpu|cuda:0] [--every N]

INPUT is an image, a folder or a glob (quote it): ``OUT/vis/<name>`` holds the
painted images (masks, boxes, scores) and ``OUT/preds/<name>.json`` the
predictions scoring at least ``--score-thr`` (boxes xyxy, scores, labels, RLE
masks). Unreadable files are named and skipped; the exit status is then 1.

INPUT may instead be a video file (.mp4, .avi, .mov, .mkv, ...): ``OUT/<stem>.mp4``
is the painted video (same size and frame rate) and ``OUT/<stem>.jsonl`` has one
line per processed frame (``frame``, ``time`` in seconds, then the keys of the
per-image JSON). ``--every N`` runs the model on every Nth frame; the frames
between are painted with the latest detections. A video that ends before the
frame count its header announces keeps the frames read, and the exit status is 1.
``tools/infer_onnx.py`` runs the same loops on an exported model.
"""
import argparse
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint')
    parser.add_argument('input', help='image, folder, glob or video file')
    parser.add_argument('--out-dir', default='outputs/infer')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='minimum score painted and written to the JSON (0-1)')
    parser.add_argument('--device', default=None, help='default: cuda:0 if available, else cpu')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='video: run the model on every Nth frame (default 1: all)')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    if not osp.isfile(args.checkpoint):
        raise UserError(f'checkpoint {args.checkpoint} does not exist')
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.predict import infer_input
    from pennfudan_vit.detector import TorchDetector, load_detector, resolve_device
    cfg = load_config(args.config)
    device = resolve_device(args.device)

    def load():
        return TorchDetector(cfg, load_detector(cfg, args.checkpoint, device)[0])

    infer_input(args.input, load, args.out_dir, args.score_thr, 'infer', args.every)


if __name__ == '__main__':
    main()
