"""Export a trained detector to one ONNX file that runs without torch or mmcv.

    python tools/export_onnx.py CONFIG CHECKPOINT --out FILE.onnx [--input-size H W]
        [--int8 [static|dynamic]] [--calib-data DATA_ROOT] [--calib-images N]
        [--record FILE.json] [--no-simplify] [--cfg-options K=V ...]

The graph holds the whole Mask R-CNN (backbone, neck, RPN with its NMS, box
and mask heads) in standard ONNX operators (opset 17), with dynamic image
height and width; the file's metadata records the preprocessing, class names
and thresholds that ``tools/infer_onnx.py`` reads. ``--input-size`` changes
the resize target the runtime uses (default: the config's test size).
``--int8`` (static) quantises the layers with weights to int8, calibrated on N
images (default 32) of the config's training split, or of DATA_ROOT's
``annotations/instances_train.json``; ``--int8 dynamic`` needs no images.
``--record`` writes the metadata, the check against PyTorch and the
quantisation recipe as JSON. See docs/deploy.md.
"""
import argparse
import os.path as osp
from dataclasses import asdict
from importlib.metadata import version

from pennfudan_vit.config.loading import CfgOptions
from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='trained weights (.pth) matching CONFIG')
    parser.add_argument('--out', required=True, help='output file (.onnx)')
    parser.add_argument('--input-size', nargs=2, type=int, metavar=('H', 'W'),
                        help='keep-ratio resize target (default: the config test size)')
    parser.add_argument('--int8', nargs='?', const='static', choices=('static', 'dynamic'),
                        help='int8 quantisation: static (the default; calibrated on training '
                        'images) or dynamic (MatMul/Gemm weights only, no calibration)')
    parser.add_argument('--calib-data', metavar='DATA_ROOT',
                        help='--int8 static: data root whose training split calibrates '
                        '(default: the config\'s)')
    parser.add_argument('--calib-images', type=int, metavar='N',
                        help='--int8 static: training images to calibrate on (default 32)')
    parser.add_argument('--record', metavar='FILE.json',
                        help='write metadata, checks and quantisation recipe here')
    parser.add_argument('--no-simplify', action='store_true', help='skip onnxsim')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptions,
                        help='override config settings, e.g. model.test_cfg.rcnn.score_thr=0.1')
    return parser.parse_args(argv)


def check_args(args: argparse.Namespace) -> None:
    """Flag combinations and the record's folder, before any work."""
    calib = [f for f in ('calib_data', 'calib_images') if getattr(args, f) is not None]
    if calib and args.int8 != 'static':
        raise UserError(f'--{calib[0].replace("_", "-")} calibrates --int8 static: add '
                        '--int8, or drop it')
    if args.record and not osp.isdir(osp.dirname(osp.abspath(args.record))):
        raise UserError(f'--record {args.record}: folder {osp.dirname(args.record)} does '
                        'not exist')


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    check_args(args)
    from pennfudan_vit.deploy.export import CALIB_IMAGES, export_onnx
    from pennfudan_vit.fileio import atomic_write_json
    meta, diffs, recipe = export_onnx(
        args.config, args.checkpoint, args.out, args.input_size, int8=args.int8,
        cfg_options=args.cfg_options, simplify=not args.no_simplify,
        calib_data=args.calib_data,
        calib_images=CALIB_IMAGES if args.calib_images is None else args.calib_images)
    size_mib = osp.getsize(args.out) / 2 ** 20
    print(f'[export] {args.out}: {size_mib:.1f} MiB, opset {meta.opset}, '
          f'resize to {meta.input_size[0]}x{meta.input_size[1]} (keep ratio), '
          f'pad to /{meta.size_divisor}, classes {meta.class_names}, '
          f'quantization {meta.quantization}')
    print('[export] ONNX Runtime vs PyTorch on a random input (float graph): ' +
          ', '.join(f'{k} {v:.3g}' for k, v in diffs.items()))
    if args.record:
        atomic_write_json(args.record, dict(
            onnx=osp.basename(args.out), size_mib=size_mib, checkpoint=args.checkpoint,
            metadata=asdict(meta), float_graph_vs_pytorch=diffs, quantization=recipe,
            versions={m: version(m) for m in ('onnx', 'onnxruntime')}))


if __name__ == '__main__':
    main()
