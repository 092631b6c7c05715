"""Batch-1 latency of ONNX exports of CONFIG + CKPT (e.g. the float and the int8 file of
tools/export_onnx.py) against PyTorch, image file in, instances out, on the first N images
of IMAGES, taking turns on each image; the record holds the CPU and the load. See
docs/deploy.md."""
import argparse
import os
import os.path as osp
from importlib.metadata import version

from pennfudan_vit.errors import UserError, cli_entry
from pennfudan_vit.fileio import atomic_write_json
from pennfudan_vit.images import collect_images


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config')
    parser.add_argument('images', help='image, folder or glob')
    parser.add_argument('--onnx', nargs='+', required=True, metavar='FILE',
                        help='exports of CONFIG + CHECKPOINT, each named by its file stem')
    parser.add_argument('--checkpoint', help='trained weights (default: random)')
    parser.add_argument('--n', type=int, default=20, help='images timed (default 20)')
    parser.add_argument('--threads', type=int, help='for both backends (default: all cores)')
    parser.add_argument('--out', help='write the report as JSON here')
    args = parser.parse_args(argv)
    if args.n < 1:
        raise UserError(f'--n must be >= 1, got {args.n}')
    return args


def onnx_detectors(paths, config: str, threads):
    """``{file stem: OnnxDetector}`` of exports of ``config`` sharing one input size."""
    from pennfudan_vit.deploy.runtime import OnnxDetector
    detectors = {}
    for path in paths:
        name = osp.splitext(osp.basename(path))[0]
        if name in detectors or name == 'pytorch':
            raise UserError(f'--onnx {path}: give each file its own name (not "pytorch")')
        detectors[name] = OnnxDetector(path, threads=threads)
        if detectors[name].meta.config != osp.basename(config):
            raise UserError(f'--onnx {path} was exported from {detectors[name].meta.config}, '
                            f'not {osp.basename(config)}')
    sizes = sorted({tuple(d.meta.input_size) for d in detectors.values()})
    if len(sizes) > 1:
        raise UserError(f'--onnx files resize to different sizes {sizes}: export them alike')
    return detectors


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    files = collect_images(args.images)[:args.n]
    exports = onnx_detectors(args.onnx, args.config, args.threads)
    import torch
    from pennfudan_bench.onnx_latency import compare_latency
    from pennfudan_bench.step_bench import environment
    from pennfudan_vit.config import load_config
    from pennfudan_vit.detector import TorchDetector, load_detector
    cfg = load_config(args.config)
    size = next(iter(exports.values())).meta.input_size
    torch.set_num_threads(args.threads or torch.get_num_threads())
    torch.manual_seed(0)
    model, _ = load_detector(cfg, args.checkpoint, config=args.config)
    start = environment('cpu')
    start['versions']['onnxruntime'] = version('onnxruntime')
    notes = [f'{name}: this CPU has no int8 units (VNNI, AMX-INT8), so its int8 timing says '
             'nothing of int8 on a CPU that has them' for name, d in exports.items()
             if (d.meta.quantization or '').startswith('int8') and not start['cpu']['int8']]
    for note in notes:
        print(f'[benchmark_onnx] note: {note}')
    report = compare_latency(dict(pytorch=TorchDetector(cfg, model, size), **exports), files)
    for name, r in report.items():
        vs = '' if name == 'pytorch' else (f', graph only {r["graph_only_ms"]["median"]:.0f} ms, '
                                           f'{r["speedup_vs_pytorch"]:.2f}x faster than PyTorch')
        vs += ''.join(f', {s["end_to_end"]:.2f}x ({s["graph_only"]:.2f}x graph only) vs {o}'
                      for o, s in r.get('speedup_vs_onnx', {}).items())
        print(f'[benchmark_onnx] {name:10s} median {r["latency_ms"]["median"]:.0f} ms (p90 '
              f'{r["latency_ms"]["p90"]:.0f}){vs}')
    if args.out:
        atomic_write_json(args.out, dict(
            report, config=osp.basename(args.config), input_size=list(size), images=len(files),
            weights=args.checkpoint or 'random', threads=torch.get_num_threads(), notes=notes,
            onnx={name: dict(file=path, quantization=exports[name].meta.quantization)
                  for name, path in zip(exports, args.onnx)},
            environment=dict(start, load_avg_1m_end=os.getloadavg()[0])))


if __name__ == '__main__':
    main()
