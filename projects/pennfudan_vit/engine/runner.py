"""Build mmengine's Runner, with CPU-only distributed training over gloo."""
import logging
import os
import sys

import torch
from mmengine.config import Config


def build_runner(cfg: Config):
    """An mmengine Runner (or the config's ``runner_type``) from ``cfg``."""
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
    return Runner.from_cfg(cfg) if 'runner_type' not in cfg else RUNNERS.build(cfg)


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
