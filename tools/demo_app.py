"""Serve a demo page in the browser: upload an image, see its pedestrians painted.

    python tools/demo_app.py MODEL.onnx [--port 7860] [--host 127.0.0.1] [--score-thr 0.3]
    python tools/demo_app.py --config CONFIG --checkpoint CHECKPOINT [--device cpu]

The first form runs an export of tools/export_onnx.py with ONNX Runtime (no torch:
``requirements/deploy.txt`` + ``requirements/demo.txt``); the second the PyTorch model
(the training environment + ``requirements/demo.txt``). The page shows the painted image,
a table of the detections (score, box, mask area) and a score-threshold slider, and has
a few drawn example pictures. It listens on 127.0.0.1 (this machine only) unless
``--host`` says otherwise. See docs/deploy.md.
"""
import argparse
import importlib.util
import os.path as osp

from pennfudan_vit.errors import UserError, cli_entry


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('model', nargs='?', help='.onnx file written by tools/export_onnx.py')
    parser.add_argument('--config', help='with --checkpoint: run the PyTorch model instead')
    parser.add_argument('--checkpoint')
    parser.add_argument('--device', default=None,
                        help='with --config: default cuda:0 if available, else cpu')
    parser.add_argument('--host', default='127.0.0.1',
                        help='address to listen on (0.0.0.0: every interface)')
    parser.add_argument('--port', type=int, default=7860)
    parser.add_argument('--score-thr', type=float, default=0.3,
                        help="the slider's starting value (0-1)")
    parser.add_argument('--threads', type=int, default=None,
                        help='ONNX Runtime intra-op threads (default: all cores)')
    args = parser.parse_args(argv)
    if (args.model is None) == (args.config is None):
        parser.error('give either MODEL.onnx or --config CONFIG --checkpoint CHECKPOINT')
    if bool(args.config) != bool(args.checkpoint):
        parser.error('--config and --checkpoint go together')
    return args


def load_predictor(args: argparse.Namespace):
    """(predictor, its description for the page)."""
    if args.model:
        from pennfudan_vit.deploy.runtime import OnnxDetector
        return OnnxDetector(args.model, threads=args.threads), osp.basename(args.model)
    from pennfudan_vit.config import load_config
    from pennfudan_vit.detector import TorchDetector, load_detector, resolve_device
    cfg = load_config(args.config)
    model, _ = load_detector(cfg, args.checkpoint, resolve_device(args.device))
    return TorchDetector(cfg, model), osp.basename(args.checkpoint)


@cli_entry
def main(argv=None) -> None:
    args = parse_args(argv)
    if not 0 <= args.score_thr <= 1:
        raise UserError(f'--score-thr must be in [0, 1], got {args.score_thr}')
    if not 1 <= args.port <= 65535:
        raise UserError(f'--port must be in 1-65535, got {args.port}')
    for flag, path in (('MODEL', args.model), ('--config', args.config),
                       ('--checkpoint', args.checkpoint)):
        if path is not None and not osp.isfile(path):
            raise UserError(f'{flag} {path} does not exist')
    from pennfudan_vit.deploy.demo_page import check_port, serve
    check_port(args.host, args.port)
    if importlib.util.find_spec('gradio') is None:
        raise UserError('the demo page needs gradio: pip install -r requirements/demo.txt')
    if args.config and importlib.util.find_spec('mmdet') is None:
        raise UserError('--config runs the PyTorch model, which needs the training '
                        'environment (make setup); here give an exported MODEL.onnx')
    predict, source = load_predictor(args)
    print(f'[demo_app] {source} loaded; serving on http://{args.host}:{args.port}', flush=True)
    serve(predict, source, args.host, args.port, args.score_thr)


if __name__ == '__main__':
    main()
