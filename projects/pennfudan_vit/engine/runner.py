"""Build mmengine's Runner, with CPU-only distributed training over gloo."""
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
