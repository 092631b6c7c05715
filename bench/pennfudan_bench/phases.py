"""The timed phases of the step benchmark: inference and training steps on batches built
before timing (step times exclude data loading), with ``--profile``; the DataLoader alone."""
import copy
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Sequence, Tuple

import torch
from mmengine.config import Config

from pennfudan_vit.config import leaf_datasets
from pennfudan_vit.errors import UserError

from .precision import autocast
from .timing import memory, summarize, time_calls

POOL_MAX, PROFILE_ITERS = 16, 3   # at most: distinct prebuilt batches, profiled iterations
# op class -> substrings of profiler op names (first match wins, in this order)
OP_CLASSES = (('attention', ('attention',)), ('roi_align', ('roi_align', 'roialign')),
              ('nms', ('nms',)), ('convolution', ('conv',)),
              ('matmul', ('mm', 'matmul', 'linear')), ('norm', ('norm',)),
              ('copy', ('copy', 'contiguous', 'cat', 'clone', 'pad')))


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


def build_batches(dataset_cfg: Any, s: Settings,
                  sizes: Tuple[int, ...]) -> Tuple[List[List[dict]], Dict[str, Any]]:
    """Per batch size, collated batches; the data time of the last size's, the images."""
    from mmdet.registry import DATASETS
    from mmengine.dataset import pseudo_collate
    dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    if len(dataset) == 0:
        ann = next(iter(leaf_datasets(dataset_cfg))).get('ann_file')
        raise UserError(f'dataset {ann} is empty: check --data-root and dataset.indices')
    pools: List[List[dict]] = [[] for _ in sizes]
    for pool, size in zip(pools, sizes):
        seconds = time_calls(lambda b: pool.append(pseudo_collate([
            dataset[(b * size + i) % len(dataset)] for i in range(size)])),
            range(min(s.warmup + s.iters, POOL_MAX)))
    return pools, dict(data_s_per_batch=summarize(seconds), images=len(dataset))


def _measure(fn: Callable[[Any], Any], items: List[Any], s: Settings) -> Tuple[dict, dict]:
    """Statistics of the timed ``fn(item)`` calls; the profile (``s.profile``) and memory."""
    memory(s.device, reset=True)
    sec = summarize(time_calls(fn, items, s.warmup, s.iters, s.device))
    extra = dict(profile=profile_calls(fn, items, s.device, min(s.iters, PROFILE_ITERS))
                 ) if s.profile else {}
    return sec, dict(extra, **memory(s.device))


def measure_infer(predict: Callable[[Any], List[int]], singles: List[Any], batches: List[Any],
                  s: Settings) -> Dict[str, Any]:
    """Batch-1 latency, throughput and detections of ``predict`` (detections per image), in
    inference mode (and autocast with ``s.amp``)."""
    detections: List[int] = []
    with torch.inference_mode(), autocast(s.device, s.amp):
        latency = summarize(time_calls(predict, singles, s.warmup, s.iters, s.device), 1e3)
        sec, extra = _measure(lambda data: detections.extend(predict(data)), batches, s)
    return dict(latency_ms_batch1=latency, sec_per_batch=sec, batch_size=s.batch_size,
                img_per_s=s.batch_size / sec['median'],
                detections_per_img=sum(detections) / max(len(detections), 1), **extra)


def measure_train(step: Callable[[Any], float], batches: List[Any],
                  s: Settings) -> Dict[str, Any]:
    """Seconds per ``step(batch)`` (which returns the loss), and the first and last loss."""
    losses: List[float] = []
    sec, extra = _measure(lambda data: losses.append(step(data)), batches, s)
    return dict(sec_per_iter=sec, img_per_s=s.batch_size / sec['median'],
                img_per_s_range=[s.batch_size / sec['max'], s.batch_size / sec['min']],
                batch_size=s.batch_size, loss_first=losses[0], loss_last=losses[-1], **extra)


def bench_loader(cfg: Config, s: Settings) -> Dict[str, Any]:
    """The train DataLoader: s/batch, and the first batch of epochs 1 and 2 (worker start)."""
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
    sec = summarize(time_calls(lambda _: next(batches), range(need - 1), s.warmup, s.iters))
    for _ in batches:   # finish the epoch, as training does, then time the next one's start
        pass
    start = time.perf_counter()
    next(iter(loader))
    return dict(num_workers=loader_cfg.get('num_workers', 0), batch_size=loader_cfg.batch_size,
                persistent_workers=bool(loader_cfg.get('persistent_workers', False)),
                pin_memory=bool(loader_cfg.get('pin_memory', False)), sec_per_batch=sec,
                epoch_start_s=epoch_start, epoch_restart_s=time.perf_counter() - start,
                img_per_s=loader_cfg.batch_size / sec['median'], **memory('cpu'))


def profile_calls(fn: Callable[[Any], Any], items: Sequence[Any], device: str, iters: int,
                  top: int = 10) -> Dict[str, Any]:
    """Share of self time (CUDA on a GPU) per op class, and the top ops, per iteration."""
    from torch.profiler import ProfilerActivity, profile
    cuda = device.startswith('cuda')
    with profile(activities=[ProfilerActivity.CPU] + [ProfilerActivity.CUDA] * cuda) as prof:
        wall = sum(time_calls(fn, items, 0, iters, device)) / iters
    attr = 'self_device_time_total' if cuda else 'self_cpu_time_total'
    ops = sorted(((e.key, getattr(e, attr), e.count) for e in prof.key_averages()),
                 key=lambda op: -op[1])
    total, shares = sum(op[1] for op in ops) or 1.0, {}
    for name, t, _ in ops:
        cls = next((c for c, keys in OP_CLASSES if any(k in name.lower() for k in keys)), 'other')
        shares[cls] = shares.get(cls, 0.0) + 100.0 * t / total
    return dict(iters=iters, wall_ms_per_iter=wall * 1e3, clock='cuda' if cuda else 'cpu',
                share_pct_by_class=dict(sorted(shares.items(), key=lambda kv: -kv[1])),
                top_ops=[dict(name=name, self_ms=t / iters / 1e3, pct=100.0 * t / total,
                              calls=n / iters) for name, t, n in ops[:top]])


def format_profile(title: str, prof: Dict[str, Any]) -> str:
    """The profile as text: shares by op class, then the top ops."""
    shares = ', '.join(f'{c} {pct:.0f}%' for c, pct in prof['share_pct_by_class'].items())
    return '\n'.join([
        f'\n{title}: {prof["iters"]} profiled iterations, {prof["wall_ms_per_iter"]:.1f} ms/iter '
        f'with profiler overhead', f'  self {prof["clock"]} time by op class: {shares}',
        f'  {"top ops":<44} {"self ms":>9} {"%":>6} {"calls":>7}',
        *(f'  {r["name"][:44]:<44} {r["self_ms"]:>9.2f} {r["pct"]:>6.1f} {r["calls"]:>7.1f}'
          for r in prof['top_ops'])])
