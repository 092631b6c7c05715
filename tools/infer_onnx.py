"""Run an exported detector with ONNX Runtime: no torch, mmcv or mmdet needed.

    python tools/infer_onnx.py FILE.onnx INPUT --out-dir DIR [--score-thr 0.3]
    python tools/infer_onnx.py FILE.onnx --coco GT_JSON --images DIR --out-dir DIR

The first form works like ``tools/infer.py``: INPUT is an image, a folder or a
glob (quote it); ``DIR/vis/<name>`` holds the painted images and
``DIR/preds/<name>.json`` the predictions scoring at least ``--score-thr``
(boxes xyxy, scores, labels, RLE masks). Unreadable files are named and
skipped; the exit status is then 1. With ``--coco`` every image of the ground
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
    parser.add_argument('input', nargs='?', help='image, folder or glob')
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
    args = parser.parse_args(argv)
    if (args.input is None) == (args.coco is None):
        parser.error('give either INPUT or --coco GT_JSON --images DIR')
    if args.coco and not args.images:
        parser.error('--coco needs --images DIR')
    if args.compare and not args.coco:
        parser.error('--compare needs --coco')
    return args


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    from pennfudan_vit.deploy.predict import infer_coco, infer_files
    from pennfudan_vit.deploy.runtime import OnnxDetector
    from pennfudan_vit.images import collect_images, exit_if_unreadable
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
    files = collect_images(args.input)
    detector = OnnxDetector(args.model, threads=args.threads)
    done, failed = infer_files(detector, files, args.out_dir, args.score_thr, 'infer_onnx')
    print(f'[infer_onnx] {done} images -> {osp.join(args.out_dir, "vis")} (painted), '
          f'{osp.join(args.out_dir, "preds")} (JSON, score >= {args.score_thr})')
    exit_if_unreadable('infer_onnx', failed, len(files))


if __name__ == '__main__':
    main()
