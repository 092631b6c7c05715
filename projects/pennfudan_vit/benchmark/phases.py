"""The timed phases: inference, training step and the train DataLoader alone.

Batches are built once before timing (at most ``POOL_MAX`` distinct ones;
iterations cycle through them), so step times exclude data loading, which is
reported apart. A model enters inference timing as an :class:`InferBackend`:
a call from a collated mmdet batch to detections per image.
"""
import copy
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from typing import Any, Callable, ContextManager, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config, ConfigDict
from torch import nn

from ..config import leaf_datasets
from ..errors import UserError
from .precision import amp_dtype_name, autocast_context, build_optim_wrapper
from .profiling import profile_calls
from .utilization import count_flops
from .timing import max_rss_mib, memory, reset_cuda_peak, summarize, time_calls, timed_map

POOL_MAX = 16       # distinct prebuilt batches per measurement
PROFILE_ITERS = 3   # at most, profiled after the timed iterations


@dataclass
class Settings:
    """How to time: device, batch size, iterations and the variants to apply."""
    device: str
    batch_size: int
    iters: int = 20
    warmup: int = 3
    amp: bool = False
    channels_last: bool = False
    profile: bool = False
    flops: bool = False

    @property
    def pool_size(self) -> int:
        """Distinct batches to prebuild for one measurement."""
        return min(self.warmup + self.iters, POOL_MAX)

    @property
    def profile_iters(self) -> int:
        """Iterations recorded by the profiler."""
        return min(self.iters, PROFILE_ITERS)


@dataclass
class InferBackend:
    """A model to time at inference: ``predict(batch)`` returns detections per image."""
    predict: Callable[[Any], List[int]]
    precision: str
    context: Callable[[], ContextManager] = nullcontext  # entered around all timed calls
    model: Optional[nn.Module] = None                    # what --profile labels by stage


def pytorch_backend(model: nn.Module, cfg: Config, s: Settings) -> InferBackend:
    """``model.test_step`` in eval mode under ``torch.inference_mode`` (and autocast)."""
    autocast = autocast_context(s.device, s.amp)
    model.eval()

    @contextmanager
    def context():
        with torch.inference_mode(), autocast():
            yield

    return InferBackend(predict=lambda data: [len(s.pred_instances)
                                              for s in model.test_step(data)],
                        precision=amp_dtype_name(s.device, s.amp), context=context,
                        model=model)


# ``--backend`` choices: name -> factory(model, cfg, settings) of the inference backend
INFER_BACKENDS: Dict[str, Callable[[nn.Module, Config, Settings], InferBackend]] = dict(
    pytorch=pytorch_backend)


def build_dataset(dataset_cfg: ConfigDict) -> Any:
    """The dataset of a dataloader config; an empty one is the user's to fix."""
    from mmdet.registry import DATASETS
    dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    if len(dataset) == 0:
        ann = next(iter(leaf_datasets(dataset_cfg))).get('ann_file')
        raise UserError(f'dataset {ann} is empty: check --data-root and dataset.indices')
    return dataset


def build_batches(dataset: Any, batch_size: int, num: int) -> Tuple[List[dict], List[float]]:
    """``num`` collated batches of consecutive images, and the seconds each took."""
    from mmengine.dataset import pseudo_collate
    return timed_map(lambda b: pseudo_collate(
        [dataset[(b * batch_size + i) % len(dataset)] for i in range(batch_size)]), range(num))


def measure_infer(backend: InferBackend, singles: Sequence[Any], batches: Sequence[Any],
                  s: Settings) -> Dict[str, Any]:
    """Latency on ``singles`` (batch 1), throughput and detections on ``batches``."""
    detections: List[int] = []
    with backend.context():
        latency = time_calls(backend.predict, singles, s.warmup, s.iters, s.device)
        step = time_calls(lambda data: detections.extend(backend.predict(data)), batches,
                          s.warmup, s.iters, s.device)
        prof = (profile_calls(backend.model, backend.predict, batches, s.device,
                              s.profile_iters) if s.profile and backend.model else None)
        flops = count_flops(lambda: backend.predict(singles[0])) if s.flops else None
    sec = summarize(step)
    result = dict(precision=backend.precision, latency_ms_batch1=summarize(latency, 1e3),
                  sec_per_batch=sec, img_per_s=s.batch_size / sec['median'],
                  batch_size=s.batch_size,
                  detections_per_img=sum(detections) / max(len(detections), 1))
    if flops:
        result['flops_batch1'] = flops
    return dict(result, profile=prof) if prof else result


def measure_train(step: Callable[[Any], float], batches: Sequence[Any], s: Settings,
                  profile_model: Optional[nn.Module] = None) -> Dict[str, Any]:
    """Seconds per ``step(batch)`` (which returns the loss), and the first and last loss."""
    losses: List[float] = []

    def run(data):
        losses.append(step(data))

    times = time_calls(run, batches, s.warmup, s.iters, s.device)
    prof = (profile_calls(profile_model, run, batches, s.device, s.profile_iters)
            if s.profile and profile_model is not None else None)
    flops = count_flops(lambda: step(batches[0])) if s.flops else None
    sec = summarize(times)
    result = dict(sec_per_iter=sec, img_per_s=s.batch_size / sec['median'],
                  img_per_s_range=[s.batch_size / sec['max'], s.batch_size / sec['min']],
                  batch_size=s.batch_size, loss_first=losses[0], loss_last=losses[-1])
    if flops:
        result['flops_per_iter'] = flops
    return dict(result, profile=prof) if prof else result


def bench_infer(backend: InferBackend, cfg: Config, s: Settings,
                pools: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Inference on the test split; ``pools`` receives the batches for the reference."""
    dataset = build_dataset(cfg.test_dataloader.dataset)
    singles, data_s1 = build_batches(dataset, 1, s.pool_size)
    batches, data_sn = build_batches(dataset, s.batch_size, s.pool_size)
    if pools is not None:
        pools.update(infer_singles=singles, infer_batches=batches)
    reset_cuda_peak(s.device)
    result = measure_infer(backend, singles, batches, s)
    return dict(result, data_s_per_batch=summarize(data_sn), data_s_per_image=summarize(data_s1),
                images=len(dataset), **memory(s.device))


def bench_train(model: nn.Module, cfg: Config, s: Settings,
                pools: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """``model.train_step`` with the config's optimizer wrapper (no schedule, no hooks)."""
    dataset = build_dataset(cfg.train_dataloader.dataset)
    batches, data_s = build_batches(dataset, s.batch_size, s.pool_size)
    if pools is not None:
        pools['train_batches'] = batches
    optim_wrapper, precision = build_optim_wrapper(model, cfg, s.device, s.amp)
    reset_cuda_peak(s.device)
    model.train()
    result = measure_train(lambda data: model.train_step(data, optim_wrapper)['loss'].item(),
                           batches, s, profile_model=model)
    return dict(result, precision=precision, optim_wrapper=type(optim_wrapper).__name__,
                data_s_per_batch=summarize(data_s), images=len(dataset), **memory(s.device))


def bench_loader(cfg: Config, s: Settings) -> Dict[str, Any]:
    """The config's train DataLoader alone: s/batch, and the first batch of the first
    and of the second epoch (worker start-up, which ``persistent_workers`` saves)."""
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    need = s.warmup + s.iters + 1
    if len(loader) < need:
        raise UserError(f'--mode data needs {need} batches (1 + warmup + iters) from one '
                        f'epoch; the train loader has {len(loader)}')
    start = time.perf_counter()
    batches = iter(loader)
    next(batches)
    epoch_start = time.perf_counter() - start
    times = time_calls(lambda _: next(batches), range(s.warmup + s.iters), s.warmup, s.iters,
                       'cpu')
    for _ in batches:   # finish the epoch, as training does, then time the next one's start
        pass
    start = time.perf_counter()
    next(iter(loader))
    epoch_restart = time.perf_counter() - start
    sec = summarize(times)
    bs = loader_cfg.batch_size
    return dict(num_workers=loader_cfg.get('num_workers', 0),
                persistent_workers=bool(loader_cfg.get('persistent_workers', False)),
                pin_memory=bool(loader_cfg.get('pin_memory', False)), batch_size=bs,
                epoch_start_s=epoch_start, epoch_restart_s=epoch_restart, sec_per_batch=sec,
                img_per_s=bs / sec['median'], max_rss_mib=max_rss_mib())
