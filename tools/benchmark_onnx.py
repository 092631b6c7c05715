"""Batch-1 latency, ONNX Runtime vs PyTorch eager, same images, one run.

    python tools/benchmark_onnx.py CONFIG IMAGES [--checkpoint CKPT] [--n 20]
        [--input-size H W] [--threads N] [--int8] [--out latency.json]

Exports CONFIG (with CKPT, or random weights: speed does not depend on them
beyond the number of detections) to a temporary ONNX file, then times both
backends end to end (image file in, instances at image size out) on the first
N images of IMAGES (an image, a folder or a glob), taking turns per image.
``--int8`` adds the dynamically quantised export. See docs/deploy.md.
"""
import argparse
import os.path as osp
import tempfile


from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json
from pennfudan_vit.images import collect_images


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('images', help='image, folder or glob')
    parser.add_argument('--checkpoint', help='trained weights (default: random)')
    parser.add_argument('--n', type=int, default=20, help='images timed (default 20)')
    parser.add_argument('--input-size', nargs=2, type=int, metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, default=None,
                        help='threads for both backends (default: torch default, all cores)')
    parser.add_argument('--int8', action='store_true', help='also time the int8 export')
    parser.add_argument('--out', help='write the report as JSON here')
    return parser.parse_args(argv)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if args.n < 1:
        raise UserError(f'--n must be >= 1, got {args.n}')
    files = collect_images(args.images)[:args.n]
    import torch
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.export import build_detector, export_model, resize_target
    from pennfudan_vit.deploy.latency import compare_latency
    from pennfudan_vit.deploy.reference import TorchDetector
    from pennfudan_vit.deploy.runtime import OnnxDetector
    cfg = load_config(args.config)
    size = tuple(args.input_size) if args.input_size else resize_target(cfg)
    torch.manual_seed(0)
    model = build_detector(cfg, args.checkpoint, args.config)
    threads = args.threads or torch.get_num_threads()
    detectors = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, int8 in (('onnx', False), ('onnx-int8', True))[:2 if args.int8 else 1]:
            data, _, _ = export_model(model, cfg, args.config, size, int8=int8, verify=False)
            path = osp.join(tmp, f'{name}.onnx')
            with open(path, 'wb') as f:
                f.write(data)
            detectors[name] = OnnxDetector(path, threads=threads)
        report = compare_latency(detectors, TorchDetector(cfg, model, size), files,
                                 threads=threads)
    report.update(config=osp.basename(args.config), input_size=list(size),
                  weights=args.checkpoint or 'random', images=len(files))
    for name in ['pytorch', *detectors]:
        r = report[name]
        extra = (f', graph only {r["graph_only_median_ms"]:.0f} ms, '
                 f'{r["speedup_vs_pytorch"]:.2f}x faster than PyTorch'
                 if name != 'pytorch' else '')
        print(f'[benchmark_onnx] {name:10s} median {r["median_ms"]:.0f} ms '
              f'(p90 {r["p90_ms"]:.0f}){extra}')
    if args.out:
        atomic_write_json(args.out, report)


if __name__ == '__main__':
    main()
