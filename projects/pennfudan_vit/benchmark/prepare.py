"""Setting up a benchmark: the device, the config with the command line, the model."""
import os.path as osp
import sys
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config
from torch import nn

from ..config import (check_dataset_files, drop_pretrained, load_config, pipeline_size,
                      set_input_size)
from ..errors import UserError
from .precision import add_cpu_bf16_fp32_islands, use_channels_last

# the splits each --mode reads
MODE_SPLITS = dict(train=['train_dataloader'], data=['train_dataloader'],
                   infer=['test_dataloader'], both=['train_dataloader', 'test_dataloader'])


def resolve_device(requested: Optional[str], amp: bool = False) -> str:
    """``requested``, checked, or CUDA where available, else CPU."""
    if requested == 'cuda' and not torch.cuda.is_available():
        raise UserError(f'--device cuda but CUDA is not available (torch {torch.__version__}, '
                        f'built with CUDA {torch.version.cuda or "none"})')
    device = requested or ('cuda' if torch.cuda.is_available() else 'cpu')
    if amp and device == 'cpu' and not torch.backends.mkldnn.is_available():
        print('[benchmark] no oneDNN: bf16 autocast on this CPU may be slow', file=sys.stderr)
    return device


def prepare_config(config: str, cfg_options: Optional[Dict[str, Any]] = None,
                   data_root: Optional[str] = None, mode: str = 'both',
                   input_size: Optional[Sequence[int]] = None,
                   batch_size: Optional[int] = None,
                   checkpoint: Optional[str] = None) -> Tuple[Config, List[str]]:
    """Load ``config`` as the command line asks and check its data; return it and notes."""
    init_registries()
    if checkpoint and not osp.isfile(checkpoint):
        raise UserError(f'checkpoint {checkpoint} does not exist')
    options = dict(cfg_options or {})
    # a DataLoader argument the configs leave at its default, settable for ablations
    pin_memory = options.pop('train_dataloader.pin_memory', None)
    cfg = load_config(config, options, data_root)
    if pin_memory is not None:
        cfg.train_dataloader.pin_memory = bool(pin_memory)
    notes = []
    dropped = drop_pretrained(cfg)
    if mode != 'data':
        if dropped:
            notes.append(f'dropped pretrained init ({", ".join(dropped)}): '
                         'speed needs no weights')
        notes.append(f'weights from {checkpoint}' if checkpoint else
                     'random weights: inference detections saturate test_cfg.rcnn.max_per_img')
    if input_size:
        set_input_size(cfg, tuple(input_size))
    if batch_size:
        cfg.train_dataloader.batch_size = batch_size
    loader = cfg.train_dataloader
    if loader.get('persistent_workers') and not loader.get('num_workers'):
        loader.persistent_workers = False   # a DataLoader error otherwise
        notes.append('num_workers=0: persistent_workers set to False')
    check_dataset_files(cfg, MODE_SPLITS[mode])
    return cfg, notes


def measured_input_size(cfg: Config, mode: str) -> Optional[List[int]]:
    """``[h, w]`` the timed pipeline fixes (the test one for ``infer``), if any."""
    return pipeline_size(cfg, 'test_dataloader' if mode == 'infer' else 'train_dataloader')


def init_registries() -> None:
    """mmdet's modules and default scope; mmengine logs only warnings (stdout is ours)."""
    from mmdet.utils import register_all_modules
    from mmengine.logging import MMLogger
    register_all_modules(init_default_scope=True)
    MMLogger.get_instance('benchmark', log_level='WARNING')


def build_model(cfg: Config, device: str, checkpoint: Optional[str] = None,
                channels_last: bool = False, amp: bool = False) -> nn.Module:
    """The config's model on ``device``: random init, or ``checkpoint``'s weights."""
    from mmdet.registry import MODELS
    from mmengine.runner import load_checkpoint

    from ..engine import check_checkpoint_matches
    model = MODELS.build(cfg.model)
    model.init_weights()
    if checkpoint:
        check_checkpoint_matches(model, checkpoint, cfg.filename or 'the config')
        load_checkpoint(model, checkpoint, map_location='cpu', strict=True, logger='current')
    model.to(device)
    if channels_last:
        use_channels_last(model, model.backbone)
    if amp and device == 'cpu':
        add_cpu_bf16_fp32_islands(model)
    return model
