"""Export a trained detector to one ONNX file that runs without torch or mmcv.

    python tools/export_onnx.py CONFIG CHECKPOINT --out FILE.onnx [--input-size H W]
        [--int8] [--no-simplify] [--cfg-options K=V ...]

The graph holds the whole Mask R-CNN (backbone, neck, RPN with its NMS, box
and mask heads) in standard ONNX operators (opset 17), with dynamic image
height and width; the file's metadata records the preprocessing, class names
and thresholds that ``tools/infer_onnx.py`` reads. ``--input-size`` changes
the resize target the runtime uses (default: the config's test size).
See docs/deploy.md.
"""
import argparse
import os.path as osp

from pennfudan_vit.config.loading import CfgOptions
from pennfudan_vit.errors import cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('checkpoint', help='trained weights (.pth) matching CONFIG')
    parser.add_argument('--out', required=True, help='output file (.onnx)')
    parser.add_argument('--input-size', nargs=2, type=int, metavar=('H', 'W'),
                        help='keep-ratio resize target (default: the config test size)')
    parser.add_argument('--int8', action='store_true',
                        help='dynamic int8 quantisation of MatMul/Gemm weights')
    parser.add_argument('--no-simplify', action='store_true', help='skip onnxsim')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptions,
                        help='override config settings, e.g. model.test_cfg.rcnn.score_thr=0.1')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    from pennfudan_vit.deploy.export import export_onnx
    meta, diffs = export_onnx(args.config, args.checkpoint, args.out, args.input_size,
                              int8=args.int8, cfg_options=args.cfg_options,
                              simplify=not args.no_simplify)
    print(f'[export] {args.out}: {osp.getsize(args.out) / 2 ** 20:.1f} MiB, opset {meta.opset}, '
          f'resize to {meta.input_size[0]}x{meta.input_size[1]} (keep ratio), '
          f'pad to /{meta.size_divisor}, classes {meta.class_names}, '
          f'quantization {meta.quantization}')
    print('[export] ONNX Runtime vs PyTorch on a random input: ' +
          ', '.join(f'{k} {v:.3g}' for k, v in diffs.items()))


if __name__ == '__main__':
    main()
