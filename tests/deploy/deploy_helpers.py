"""Helpers of the deploy tests (importable as ``deploy_helpers``)."""
import torch

from helpers import CPU_CONFIG, ROOT

CPU_SIZE = (256, 256)
CONFIGS = {
    'cpu': CPU_CONFIG,
    'main': str(ROOT / 'configs' / 'vit_mrcnn_pennfudan.py'),
    'r50': str(ROOT / 'configs' / 'r50-fpn_mrcnn_pennfudan.py'),
}


def build_random(config: str, seed: int = 0):
    """(cfg, detector) with seeded random weights (no pretrained download)."""
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.export import build_detector
    cfg = load_config(config)
    torch.manual_seed(seed)
    return cfg, build_detector(cfg, None, config)
