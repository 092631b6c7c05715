"""Config loading shared by the command-line tools (train, test, cross-val, ...).

One place turns ``CONFIG [--cfg-options] [--data-root] [--launcher]`` into a
validated mmengine ``Config``, so every tool rejects the same mistakes the
same way.
"""
import argparse
import os
import os.path as osp
from typing import Dict, Optional

from mmengine.config import Config, DictAction

from .config_checks import ConfigCheckError, set_data_root, validate_cfg_options

# Errors a tool reports as one `error: ...` line instead of a traceback.
TOOL_ERRORS = (ConfigCheckError, FileNotFoundError, ValueError, KeyError, TypeError)


def add_config_args(parser: argparse.ArgumentParser) -> None:
    """The flags every Runner-based tool takes."""
    parser.add_argument('--data-root', help='dataset root (converter output) for every split')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, e.g. train_cfg.max_epochs=2; '
                        'keys must exist in the config')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def load_config(config: str, cfg_options: Optional[Dict[str, object]] = None,
                data_root: Optional[str] = None, launcher: str = 'none',
                local_rank: int = 0) -> Config:
    """Read ``config`` and apply validated overrides, data root and launcher."""
    import torch
    os.environ.setdefault('LOCAL_RANK', str(local_rank))
    if not osp.isfile(config):
        raise FileNotFoundError(f'config file {config} does not exist')
    cfg = Config.fromfile(config)
    validate_cfg_options(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root:
        set_data_root(cfg, data_root)
    cfg.launcher = launcher
    if launcher != 'none' and not torch.cuda.is_available():
        # CPU-only distributed runs (tests, laptops): gloo instead of nccl, and
        # DDP over CPU modules takes no device_ids
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
    return cfg


def default_work_dir(cfg: Config, config: str, work_dir: Optional[str] = None) -> str:
    """``--work-dir``, else the config's ``work_dir``, else ``work_dirs/<config name>``."""
    return work_dir or cfg.get('work_dir') or osp.join(
        './work_dirs', osp.splitext(osp.basename(config))[0])


def build_runner(cfg: Config):
    """An mmengine Runner (or the config's ``runner_type``) from ``cfg``."""
    import torch
    import torch.distributed as dist
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if (cfg.get('launcher') == 'pytorch' and not torch.cuda.is_available()
            and not dist.is_initialized()):
        # mmengine's init_dist calls torch.cuda.set_device first; on a CPU-only
        # machine start the (gloo) process group here and mmengine reuses it
        dist.init_process_group(backend='gloo')
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)
