"""Batch-1 latency, ONNX Runtime (fp32 and ``--int8`` exports of CONFIG + CKPT) vs PyTorch,
image file in, instances out, on the first N images of IMAGES. See docs/deploy.md."""
import argparse
import os.path as osp
import tempfile

from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_bytes, atomic_write_json
from pennfudan_vit.images import collect_images


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('images', help='image, folder or glob')
    parser.add_argument('--checkpoint', help='trained weights (default: random)')
    parser.add_argument('--n', type=int, default=20, help='images timed (default 20)')
    parser.add_argument('--input-size', nargs=2, type=int, metavar=('H', 'W'))
    parser.add_argument('--threads', type=int, help='for both backends (default: all cores)')
    parser.add_argument('--int8', action='store_true', help='also time the int8 export')
    parser.add_argument('--out', help='write the report as JSON here')
    args = parser.parse_args(argv)
    if args.n < 1:
        raise UserError(f'--n must be >= 1, got {args.n}')
    files = collect_images(args.images)[:args.n]
    import torch
    from pennfudan_bench.onnx_latency import compare_latency
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.export import export_model, resize_target
    from pennfudan_vit.deploy.runtime import OnnxDetector
    from pennfudan_vit.detector import TorchDetector, load_detector
    cfg = load_config(args.config)
    size = tuple(args.input_size) if args.input_size else resize_target(cfg)
    torch.set_num_threads(args.threads or torch.get_num_threads())
    torch.manual_seed(0)
    model, _ = load_detector(cfg, args.checkpoint, config=args.config)
    detectors = dict(pytorch=TorchDetector(cfg, model, size))
    with tempfile.TemporaryDirectory() as tmp:
        for name, int8 in (('onnx', False), ('onnx-int8', True))[:1 + args.int8]:
            data, _, _ = export_model(model, cfg, args.config, size, int8=int8, verify=False)
            detectors[name] = OnnxDetector(atomic_write_bytes(osp.join(tmp, f'{name}.onnx'),
                                                              data), threads=args.threads)
        report = compare_latency(detectors, files)
    for name, r in report.items():
        vs = '' if name == 'pytorch' else (f', graph only {r["graph_only_ms"]["median"]:.0f} ms, '
                                           f'{r["speedup_vs_pytorch"]:.2f}x faster than PyTorch')
        print(f'[benchmark_onnx] {name:10s} median {r["latency_ms"]["median"]:.0f} ms (p90 '
              f'{r["latency_ms"]["p90"]:.0f}){vs}')
    if args.out:
        atomic_write_json(args.out, dict(report, config=osp.basename(args.config),
                                         input_size=list(size), images=len(files),
                                         weights=args.checkpoint or 'random',
                                         threads=torch.get_num_threads()))


if __name__ == '__main__':
    main()
