"""Run an exported detector with ONNX Runtime: no torch, mmcv or mmdet needed.

    python tools/infer_onnx.py FILE.onnx INPUT --out-dir DIR [--score-thr 0.3] [--every N]
    python tools/infer_onnx.py FILE.onnx --coco GT_JSON --images DIR --out-dir DIR

The first form works like ``tools/infer.py``: INPUT is an image, a folder or a
glob (quote it); ``DIR/vis/<name>`` holds the painted images and
``DIR/preds/<name>.json`` the predictions scoring at least ``--score-thr``
(boxes xyxy, scores, labels, RLE masks). Unreadable files are named and
skipped; the exit status is then 1. A video file as INPUT gives
``DIR/<stem>.mp4`` (painted, same size and frame rate) and ``DIR/<stem>.jsonl``
(one line per processed frame; ``--every N`` runs every Nth frame), as
``tools/infer.py`` describes; it needs ``pip install -r requirements/video.txt``
(OpenCV, tqdm). With ``--coco`` every image of the ground
truth file (paths relative to ``--images``) is run and
``DIR/PREFIX.bbox.json`` / ``DIR/PREFIX.segm.json`` are written, all
detections kept, for ``tools/eval_results.py``; ``--compare BASE_PREFIX`` then
matches them to another run's boxes (counts, IoU). Needs only
``pip install -r requirements/deploy.txt`` and ``pip install --no-deps .``
(the plugin). See docs/deploy.md.
"""
import argparse
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', help='.onnx file written by tools/export_onnx.py')
    parser.add_argument('input', nargs='?', help='image, folder, glob or video file')
    parser.add_argument('--out-dir', default='outputs/infer_onnx')
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help='minimum score painted and written to the JSON (0-1)')
    parser.add_argument('--coco', metavar='GT_JSON', help='COCO ground truth to run')
    parser.add_argument('--images', metavar='DIR', help='folder the --coco file names are in')
    parser.add_argument('--prefix', default='results',
                        help='--coco output names: DIR/PREFIX.bbox.json, DIR/PREFIX.segm.json')
    parser.add_argument('--compare', metavar='BASE_PREFIX',
                        help='with --coco: match the boxes to BASE_PREFIX.bbox.json (e.g. '
                        'tools/test.py results) and print counts and box IoU')
    parser.add_argument('--threads', type=int, default=None,
                        help='ONNX Runtime intra-op threads (default: all cores)')
    parser.add_argument('--every', type=int, default=1, metavar='N',
                        help='video: run the model on every Nth frame (default 1: all)')
    args = parser.parse_args(argv)
    if (args.input is None) == (args.coco is None):
        parser.error('give either INPUT or --coco GT_JSON --images DIR')
    if args.coco and not args.images:
        parser.error('--coco needs --images DIR')
    if args.compare and not args.coco:
        parser.error('--compare needs --coco')
    if args.every != 1 and args.coco:
        parser.error('--every applies to a video INPUT, not to --coco')
    return args


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    from pennfudan_vit.deploy.predict import infer_coco, infer_input
    from pennfudan_vit.deploy.runtime import OnnxDetector
    if args.coco:
        if not osp.isdir(args.images):
            raise UserError(f'--images {args.images} is not a folder')
        base = f'{args.compare}.bbox.json' if args.compare else None
        if base and not osp.isfile(base):
            raise UserError(f'--compare {args.compare}: {base} does not exist')
        detector = OnnxDetector(args.model, threads=args.threads)
        out = infer_coco(detector, args.coco, args.images, osp.join(args.out_dir, args.prefix))
        print(f'[infer_onnx] wrote {out[0]} and {out[1]}')
        if base:
            from pennfudan_vit.deploy.compare import compare_box_results
            stats = compare_box_results(out[0], base, detector.meta.score_thr)
            print(f'[infer_onnx] vs {base}: ' + ', '.join(
                f'{k} {v:.6g}' if isinstance(v, float) else f'{k} {v}'
                for k, v in stats.items()))
        return
    infer_input(args.input, lambda: OnnxDetector(args.model, threads=args.threads),
                args.out_dir, args.score_thr, 'infer_onnx', args.every)


if __name__ == '__main__':
    main()
