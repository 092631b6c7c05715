"""Training as two calls: :func:`train_config` turns a config and the settings of
``tools/train.py`` into a checked Config (one-line :class:`UserError` before any work),
:func:`train` runs it. Both run in the calling process (``tools/cross_val.py`` trains
every fold this way), also under torchrun or srun with ``launcher``."""
import os.path as osp
import signal
import sys
import threading
from typing import Any, Dict, Optional, Sequence

from mmengine.config import Config
from mmengine.dist import barrier

from .config import (add_tensorboard, check_dataset_files, default_work_dir, load_config,
                     set_input_size)
from .detector import resolve_device
from .engine.mixed_precision import configure_amp, configure_fp32, describe_precision
from .engine.runner import build_runner, stop_workers
from .engine.work_dir import guard_work_dir, lock_work_dir, resume_checkpoint, unlock_work_dir
from .errors import UserError
from .hardware import describe_cpu


def train_config(config: str, work_dir: Optional[str] = None, resume: Optional[str] = None,
                 amp: bool = False, fp32: bool = False, auto_scale_lr: bool = False,
                 vis_backend: str = 'local',
                 cfg_options: Optional[Dict[str, Any]] = None, data_root: Optional[str] = None,
                 input_size: Optional[Sequence[int]] = None, launcher: str = 'none') -> Config:
    """The config to train; its work dir stays locked for this process until
    :func:`train` of it ends.

    ``resume``: None (a fresh run; refused over an earlier run's checkpoints), ``'auto'``
    (the newest readable checkpoint of the work dir) or a checkpoint path.
    ``amp``: the device's native mixed precision; ``fp32``: fp32 even where the config
    asks for mixed precision (without either, the config's, as the device runs it).
    ``vis_backend='tensorboard'`` also writes TensorBoard events.
    """
    cfg = load_config(config, cfg_options, data_root)
    if input_size:
        set_input_size(cfg, tuple(input_size))
    cfg.launcher = launcher
    cfg.work_dir = default_work_dir(cfg, config, work_dir)
    if amp and fp32:
        raise UserError('--amp and --fp32 contradict each other: pass one of them')
    if fp32:
        configure_fp32(cfg.optim_wrapper)
    elif amp or cfg.optim_wrapper.get('type') in ('AmpOptimWrapper', 'CPUBF16OptimWrapper'):
        # the config's or --amp's mixed precision, as this device runs it natively
        if configure_amp(cfg, resolve_device(None)) is None:
            print(f'[train] mixed precision: none native here, training in fp32 '
                  f'({describe_cpu()})', flush=True)
    if auto_scale_lr:
        if 'base_batch_size' not in cfg.get('auto_scale_lr', {}):
            raise UserError('--auto-scale-lr needs auto_scale_lr.base_batch_size in the config')
        cfg.auto_scale_lr.enable = True
    if vis_backend == 'tensorboard':
        add_tensorboard(cfg)

    lock_work_dir(cfg.work_dir)  # before resume and guard look at the folder
    try:
        if resume == 'auto':
            cfg.resume, cfg.load_from = True, resume_checkpoint(cfg.work_dir)
        elif resume is not None:
            if not osp.isfile(resume):
                raise UserError(f'--resume checkpoint {resume} does not exist')
            cfg.resume, cfg.load_from = True, resume
        if cfg.resume:
            print(f'[train] resuming from {cfg.load_from}', flush=True)
        elif cfg.get('load_from') and '://' not in cfg.load_from and not osp.isfile(
                cfg.load_from):
            raise UserError(f'load_from {cfg.load_from} does not exist: pass a checkpoint '
                            'file (--cfg-options load_from=/path/to/FILE.pth) or load_from=None')
        guard_work_dir(cfg.work_dir, resume=resume is not None)
        check_dataset_files(cfg, ['train_dataloader'] + (
            ['val_dataloader'] if cfg.get('val_cfg') else []))
    except BaseException:
        unlock_work_dir(cfg.work_dir)
        raise
    return cfg


def train(cfg: Config) -> None:
    """Train (or resume) ``cfg`` from :func:`train_config` with mmengine's Runner; in a
    distributed run every rank returns once rank 0 has written the last checkpoint."""
    runner, previous = None, None
    if (threading.current_thread() is threading.main_thread()
            and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL):
        # SIGTERM unwinds like an exception, so the data-loader workers are stopped
        # below instead of outliving the run; a caller's own handler is kept
        previous = signal.signal(signal.SIGTERM, lambda signum, _: sys.exit(128 + signum))
    try:
        runner = build_runner(cfg)
        runner.logger.info(describe_precision(cfg))
        runner.train()
    finally:
        if runner is not None:
            stop_workers(runner)
        unlock_work_dir(cfg.work_dir)
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)
    barrier()
