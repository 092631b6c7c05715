"""Build mmengine's Runner (around a model already built, if given), with CPU-only
distributed training over gloo, several times in one process."""
import copy
import inspect
import logging
import os
import sys
import time
from typing import Optional

import torch
from mmengine.config import Config
from torch import nn

from ..stack_warnings import quiet_mmengine_notices

_last = {'timestamp': ''}  # of the Runner this process built last


def build_runner(cfg: Config, model: Optional[nn.Module] = None):
    """An mmengine Runner (or the config's ``runner_type``) from ``cfg``.

    With ``model`` (e.g. from :func:`pennfudan_vit.detector.load_detector`) the Runner
    runs that module, weights and all: ``cfg.model`` is not built and ``load_from`` is
    not loaded again.
    """
    import torch.distributed as dist
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    if cfg.get('launcher', 'none') != 'none' and not torch.cuda.is_available():
        # mmengine's init_dist calls torch.cuda.set_device first and DDP over CPU
        # modules takes no device_ids: start gloo here, mmengine reuses the group
        cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
        wrapper = cfg.get('model_wrapper_cfg') or dict(
            type='MMDistributedDataParallel', broadcast_buffers=False,
            find_unused_parameters=cfg.get('find_unused_parameters', False))
        wrapper['device_ids'] = None
        cfg.model_wrapper_cfg = wrapper
        if cfg.launcher == 'pytorch' and not dist.is_initialized():
            dist.init_process_group(backend='gloo')
    # mmengine reuses a logger, message hub or visualizer of the same name, so a later Runner
    # of this process (folds, tests) would log into the earlier one's files: start in a later
    # second (names are <experiment>_<second>), and drop mmdet's fixed visualizer name.
    if cfg.get('visualizer'):
        cfg.visualizer.pop('name', None)
    while time.strftime('%Y%m%d_%H%M%S') <= _last['timestamp']:
        time.sleep(0.05)
    runner_cls = RUNNERS.get(cfg.runner_type) if 'runner_type' in cfg else Runner
    if model is None:
        runner = runner_cls.from_cfg(cfg)
    else:
        # what Runner.from_cfg passes (it deep-copies the config, which would copy a
        # module too), with the module itself
        cfg = copy.deepcopy(cfg)
        keys = set(inspect.signature(Runner.__init__).parameters) - {'self', 'cfg', 'model'}
        args = {key: cfg[key] for key in keys if key in cfg}
        runner = runner_cls(**dict(args, model=model, load_from=None, cfg=cfg))
    _last['timestamp'] = runner.timestamp
    quiet_mmengine_notices(runner.logger)
    return runner


def stop_workers(runner) -> None:
    """Stop the data-loader workers of a Runner that has run (it may run again).

    Left to the garbage collector, a Runner's reference cycle takes its loaders' queues
    down before the workers get their stop signal: each persistent worker then waits for
    a timeout and is killed, seconds per worker, in a process that goes on (folds, tests).
    """
    for loop in (runner._train_loop, runner._val_loop, runner._test_loop):
        loader = getattr(loop, 'dataloader', None)  # a loop not built is still a dict
        if getattr(loader, '_iterator', None) is not None:
            loader._iterator._shutdown_workers()
            loader._iterator = None


def exit_distributed() -> None:
    """After a distributed run that succeeded: leave the group and exit 0 at once.

    Torch objects still holding gloo's threads at interpreter teardown abort the process
    now and then (SIGABRT, "terminate called without an active exception") after all
    work is written, which torchrun reports as a failed run; skipping teardown avoids it.
    """
    import torch.distributed as dist
    if not dist.is_initialized():
        return
    dist.barrier()   # no rank leaves while another still writes
    dist.destroy_process_group()
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)
