"""Self-check of the installed stack: compiled mmcv ops, mmdet, mmpretrain, the
plugin, and a tiny ViT Mask R-CNN built from the project's CPU config.

    python tools/check_env.py [--quiet]

Exits non-zero with the failing step and its fix.
"""
import argparse
import sys
import warnings
from pathlib import Path

# mmengine 0.10.7 still imports pkg_resources; its deprecation notice is noise here
warnings.filterwarnings('ignore', message='pkg_resources is deprecated')

try:
    from pennfudan_vit.errors import cli_entry
except ModuleNotFoundError:  # the 'plugin import' step below names the fix
    def cli_entry(main):
        return main

ROOT = Path(__file__).resolve().parents[1]


def _step(name: str, fix: str, fn, quiet: bool):
    try:
        out = fn()
    except Exception as e:  # noqa: BLE001 - report any failure with its fix
        print(f'[check_env] FAILED: {name}: {type(e).__name__}: {e}\n'
              f'[check_env] fix: {fix}', file=sys.stderr)
        sys.exit(1)
    if not quiet:
        print(f'[check_env] ok  {name}' + (f': {out}' if out else ''))
    return out


def check_mmcv_ops() -> str:
    import torch
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 10., 10.], [20., 20., 30., 30.]])
    _, keep = nms(boxes, torch.tensor([0.9, 0.8, 0.7]), 0.5)
    assert keep.tolist() == [0, 2], keep
    feat = torch.arange(16.).view(1, 1, 4, 4)
    out = RoIAlign((2, 2), 1.0, 0)(feat, torch.tensor([[0., 0., 0., 4., 4.]]))
    assert out.shape == (1, 1, 2, 2)
    return 'nms, RoIAlign run'


def check_versions() -> str:
    import mmcv
    import mmdet
    import mmengine
    import mmpretrain
    import numpy
    import torch
    import torchvision
    import mmpretrain.models  # noqa: F401
    return ', '.join([
        f'python {sys.version.split()[0]}', f'torch {torch.__version__}',
        f'torchvision {torchvision.__version__}', f'cuda {torch.cuda.is_available()}',
        f'numpy {numpy.__version__}', f'mmengine {mmengine.__version__}',
        f'mmcv {mmcv.__version__}', f'mmdet {mmdet.__version__}',
        f'mmpretrain {mmpretrain.__version__}'])


def check_tiny_model() -> str:
    import torch
    from mmdet.structures import DetDataSample
    from pennfudan_vit.config import drop_pretrained, load_config
    from pennfudan_vit.detector import build_model
    cfg = load_config(str(ROOT / 'configs' / 'deit-tiny_mrcnn_pennfudan_cpu.py'))
    drop_pretrained(cfg)
    model = build_model(cfg).eval()
    sample = DetDataSample(metainfo=dict(img_shape=(64, 96), ori_shape=(64, 96),
                                         scale_factor=(1., 1.)))
    with torch.no_grad():
        data = model.data_preprocessor(
            dict(inputs=[torch.randint(0, 255, (3, 64, 96), dtype=torch.uint8)],
                 data_samples=[sample]), False)
        res = model(**data, mode='predict')
    n = sum(p.numel() for p in model.parameters())
    return (f'{type(model).__name__} with {n / 1e6:.1f} M params predicts '
            f'({len(res[0].pred_instances)} boxes)')


@cli_entry
def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--quiet', action='store_true')
    args = parser.parse_args(argv)
    q = args.quiet
    _step('versions', 'run make setup (pip install -r requirements.txt)', check_versions, q)
    _step('mmcv.ops', 'mmcv was built without its compiled ops: delete the cached '
          'mmcv wheel (~/.cache/pennfudan-vit/wheels) and run make setup', check_mmcv_ops, q)
    _step('plugin import', 'pip install -e . (make setup does it)',
          lambda: __import__('pennfudan_vit').__version__, q)
    _step('tiny model', 'see the error above; the configs/ or plugin code is broken',
          check_tiny_model, q)
    if not q:
        print('[check_env] all checks passed')


if __name__ == '__main__':
    main()
