"""Benchmark a config: train-step and inference speed, data time, peak memory.

    python tools/benchmark.py CONFIG [--device cpu|cuda] [--batch-size N]
        [--iters N] [--warmup N] [--mode {train,infer,both,data}]
        [--input-size H W] [--data-root DIR] [--amp] [--channels-last]
        [--checkpoint CKPT] [--threads N] [--profile] [--out JSON]
        [--reference torchvision] [--cfg-options k=v ...]

Real Penn-Fudan images go through the config's own pipelines and data
preprocessor. Batches are built once before timing, so step times exclude
data loading (reported separately per batch, single process); ``--mode data``
times the config's real train DataLoader (workers, pinned memory, persistent
workers) alone. ``both`` runs inference first, then training.

* train: ``model.train_step`` (forward, backward, optimizer step, gradient
  clipping) with the config's optimizer wrapper; no lr schedule, no hooks.
* infer: ``model.test_step`` in eval mode under ``torch.inference_mode``:
  latency at batch 1 and throughput at ``--batch-size``.

``--reference torchvision`` also times, in the same run and on the same
prebuilt batches, the torchvision Mask R-CNN reference of
``tools/torchvision_reference.py`` (same ViT, simple feature pyramid,
torchvision defaults; random init, float32) and reports speed-up ratios.

Without ``--checkpoint`` the weights are random (pretrained ``init_cfg`` is
dropped): detections then saturate ``test_cfg.rcnn.max_per_img``, an upper
bound for the mask head's inference work. The last stdout line is one JSON
object with every figure and the environment; see docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import os
import os.path as osp
import platform
import resource
import shlex
import sys
import time
from contextlib import contextmanager, nullcontext
from typing import TYPE_CHECKING, Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config, ConfigDict, DictAction

if TYPE_CHECKING:
    import torch.nn as nn

POOL_MAX = 16        # distinct prebuilt batches per measurement; iterations cycle through them
PROFILE_ITERS = 3    # at most, recorded by --profile after the timed iterations
TOP_OPS = 15
# speed-ups over the torchvision reference that the issue asks for (printed, not enforced)
REFERENCE_TARGETS = dict(train=1.5, infer_latency=3.0)
# forward ranges labelled in --profile output (attribute paths of a two-stage detector)
STAGES = ('backbone', 'neck', 'rpn_head', 'roi_head.bbox_roi_extractor', 'roi_head.bbox_head',
          'roi_head.mask_roi_extractor', 'roi_head.mask_head')
# pipeline steps that fix the input size: transform type -> key, all (w, h) in mmdet 3.x
SIZE_STEPS = {'Resize': 'scale', 'RandomResize': 'scale', 'Pad': 'size',
              'RandomCrop': 'crop_size'}


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description='Benchmark training and inference speed of a detector config')
    parser.add_argument('config', help='config file path')
    parser.add_argument('--device', choices=['cpu', 'cuda'],
                        help='default: cuda if available, else cpu')
    parser.add_argument('--batch-size', type=int,
                        help="train and infer-throughput batch (default: the train dataloader's)")
    parser.add_argument('--iters', type=int, default=20, help='timed iterations per measurement')
    parser.add_argument('--warmup', type=int, default=3,
                        help='untimed iterations before each measurement')
    parser.add_argument('--mode', choices=['train', 'infer', 'both', 'data'], default='both',
                        help='both: infer then train; data: the train DataLoader alone')
    parser.add_argument('--input-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='rewrite the pipelines (resize, crop, pad) and the ViT '
                        'pos-embed grid for this input size')
    parser.add_argument('--data-root', help='dataset root (converter output)')
    parser.add_argument('--amp', action='store_true',
                        help='mixed precision: fp16 AMP on CUDA, bf16 autocast on CPU')
    parser.add_argument('--channels-last', action='store_true',
                        help='channels-last memory format for weights and input images')
    parser.add_argument('--checkpoint', help='load these weights (default: random init)')
    parser.add_argument('--threads', type=int, help='torch intra-op threads')
    parser.add_argument('--profile', action='store_true',
                        help=f'profile min(iters, {PROFILE_ITERS}) more iterations: top-{TOP_OPS} '
                        'ops by self time and forward time per model stage')
    parser.add_argument('--out', help='also write the JSON result to this file')
    parser.add_argument('--reference', choices=['torchvision'],
                        help='also time the torchvision Mask R-CNN reference (same ViT, simple '
                        'feature pyramid; tools/torchvision_reference.py) on the same batches '
                        'and report speed-ups')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings; keys must exist')
    args = parser.parse_args(argv)
    for name in ('iters', 'batch_size', 'threads'):
        value = getattr(args, name)
        if value is not None and value < 1:
            parser.error(f'--{name.replace("_", "-")} must be >= 1, got {value}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.input_size and min(args.input_size) < 32:
        parser.error(f'--input-size must be at least 32 x 32, got {args.input_size}')
    if args.out and osp.isdir(args.out):
        parser.error(f'--out {args.out} is a directory; give a file path')
    if args.reference:
        # the reference is random-init float32: compare like with like
        for flag, given in (('--mode data', args.mode == 'data'), ('--amp', args.amp),
                            ('--checkpoint', bool(args.checkpoint))):
            if given:
                parser.error(f'--reference compares random-init float32 models; '
                             f'drop {flag}')
    return args


# ----------------------------------------------------------------------------- config


def _leaf_dataset(dataset: ConfigDict) -> ConfigDict:
    """The (first) innermost dataset of a wrapped dataset config."""
    from pennfudan_vit.apis import leaf_datasets
    return next(iter(leaf_datasets(dataset)))


def _type_name(step: dict) -> str:
    kind = step.get('type', '')
    return getattr(kind, '__name__', str(kind)).split('.')[-1]


def set_input_size(cfg: Config, h: int, w: int) -> None:
    """Rewrite the size-dependent pipeline steps and ``model.backbone.img_size``."""
    from pennfudan_vit.apis import ConfigCheckError
    for name in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(name) is None:
            continue
        changed = 0
        for step in _leaf_dataset(cfg[name].dataset).get('pipeline', []):
            kind = _type_name(step)
            key = SIZE_STEPS.get(kind)
            if key is None or step.get(key) is None:
                continue
            if kind == 'RandomCrop':
                crop_type = step.get('crop_type', 'absolute')
                if crop_type.startswith('relative'):
                    continue  # a fraction of the image: size-independent
                if crop_type == 'absolute_range' and h != w:
                    # a (min, max) side range cannot say H x W; a fixed crop can
                    step['crop_type'] = 'absolute'
                elif crop_type == 'absolute_range':
                    step[key] = (h, h)
                    changed += 1
                    continue
            step[key] = (w, h)
            changed += 1
        if not changed:
            raise ConfigCheckError(
                f'--input-size: {name} has no size-dependent step '
                f'({", ".join(SIZE_STEPS)}) to rewrite')
    backbone = cfg.model.get('backbone', {})
    if 'img_size' in backbone:
        backbone['img_size'] = h if h == w else (h, w)


def pipeline_size(cfg: Config, name: str) -> Optional[List[int]]:
    """``[H, W]`` fixed by the last size-dependent step of a dataloader's pipeline."""
    size = None
    for step in _leaf_dataset(cfg[name].dataset).get('pipeline', []):
        kind = _type_name(step)
        if kind in SIZE_STEPS and kind != 'RandomCrop' and step.get(SIZE_STEPS[kind]):
            value = step[SIZE_STEPS[kind]]
            size = [value, value] if isinstance(value, int) else [value[1], value[0]]
    return size


def drop_pretrained_init(node: Any, path: str = 'model') -> List[str]:
    """Remove ``Pretrained`` init configs in place; return where they were."""
    dropped = []
    if isinstance(node, dict):
        for key in list(node):
            value, where = node[key], f'{path}.{key}'
            if key == 'init_cfg' and isinstance(value, dict) and value.get('type') == 'Pretrained':
                node[key] = None
                dropped.append(where)
            elif key == 'init_cfg' and isinstance(value, list):
                kept = [v for v in value if not (isinstance(v, dict)
                                                 and v.get('type') == 'Pretrained')]
                if len(kept) < len(value):
                    node[key] = kept or None
                    dropped.append(where)
            else:
                dropped += drop_pretrained_init(value, where)
    elif isinstance(node, (list, tuple)):
        for i, value in enumerate(node):
            dropped += drop_pretrained_init(value, f'{path}.{i}')
    return dropped


def check_paths(args: argparse.Namespace) -> None:
    """Fail fast, before the heavy imports, on a missing config, data root or checkpoint."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config} does not exist')
    if args.data_root and not osp.isdir(args.data_root):
        raise FileNotFoundError(f'data root {args.data_root} does not exist')
    if args.checkpoint and not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint} does not exist')


def build_cfg(args: argparse.Namespace) -> Tuple[Config, List[str]]:
    """Load the config, apply the command line and check the data; return notes."""
    from pennfudan_vit.apis import check_dataset_files, load_config
    check_paths(args)
    options = dict(args.cfg_options or {})
    # a DataLoader argument the configs leave at its default, settable for ablations
    pin_memory = options.pop('train_dataloader.pin_memory', None)
    cfg = load_config(args.config, options, args.data_root)
    if pin_memory is not None:
        cfg.train_dataloader.pin_memory = bool(pin_memory)
    notes = []
    dropped = drop_pretrained_init(cfg.model)
    if dropped and args.mode != 'data':
        notes.append(f'dropped pretrained init ({", ".join(dropped)}): speed needs no weights')
    if args.mode != 'data':
        notes.append(f'weights from {args.checkpoint}' if args.checkpoint else
                     'random weights: inference detections saturate test_cfg.rcnn.max_per_img')
    if args.input_size:
        set_input_size(cfg, *args.input_size)
    if args.batch_size:
        cfg.train_dataloader.batch_size = args.batch_size
    loader = cfg.train_dataloader
    if loader.get('persistent_workers') and not loader.get('num_workers'):
        loader.persistent_workers = False   # a DataLoader error otherwise
        notes.append('num_workers=0: persistent_workers set to False')
    splits = {'train': ['train_dataloader'], 'data': ['train_dataloader'],
              'infer': ['test_dataloader']}.get(args.mode, ['train_dataloader', 'test_dataloader'])
    check_dataset_files(cfg, splits)
    return cfg, notes


# ----------------------------------------------------------------------------- helpers


def max_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == 'darwin' else rss / 2**10


def summarize(values: Sequence[float], scale: float = 1.0) -> Dict[str, float]:
    """Median, quartiles, p90, min, max and mean of ``values * scale``."""
    import numpy as np
    v = np.asarray(values, dtype=np.float64) * scale
    q1, med, q3, p90 = np.percentile(v, [25, 50, 75, 90])
    return dict(median=float(med), q1=float(q1), q3=float(q3), iqr=float(q3 - q1),
                p90=float(p90), min=float(v.min()), max=float(v.max()), mean=float(v.mean()),
                n=int(v.size))


def finite_or_none(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def device_name(device: str) -> str:
    import torch
    if device == 'cuda':
        return torch.cuda.get_device_name(0)
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def environment(device: str) -> Dict[str, Any]:
    """Library versions and the machine, for the JSON record."""
    import mmcv
    import mmdet
    import mmengine
    import torch
    versions = dict(python=platform.python_version(), torch=torch.__version__,
                    mmcv=mmcv.__version__, mmdet=mmdet.__version__,
                    mmengine=mmengine.__version__, cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version() if device == 'cuda' else None)
    try:
        import mmpretrain
        versions['mmpretrain'] = mmpretrain.__version__
    except ImportError:
        versions['mmpretrain'] = None
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    return dict(versions=versions, device_name=device_name(device), platform=platform.platform(),
                cpu_count=cpus, threads=torch.get_num_threads(),
                interop_threads=torch.get_num_interop_threads(),
                load_avg_1m_start=os.getloadavg()[0] if hasattr(os, 'getloadavg') else None)


def _sync(device: str) -> None:
    if device == 'cuda':
        import torch
        torch.cuda.synchronize()


def time_calls(fn: Callable[[Any], Any], items: Sequence[Any], warmup: int, iters: int,
               device: str) -> List[float]:
    """Seconds per ``fn(item)`` for ``iters`` calls after ``warmup``, cycling ``items``."""
    times = []
    for i in range(warmup + iters):
        item = items[i % len(items)]
        _sync(device)
        start = time.perf_counter()
        fn(item)
        _sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def build_batches(dataset: Any, batch_size: int, num: int) -> Tuple[List[dict], List[float]]:
    """``num`` collated batches of consecutive images, and the seconds each took."""
    from mmengine.dataset import pseudo_collate
    batches, seconds = [], []
    for b in range(num):
        start = time.perf_counter()
        items = [dataset[(b * batch_size + i) % len(dataset)] for i in range(batch_size)]
        batches.append(pseudo_collate(items))
        seconds.append(time.perf_counter() - start)
    return batches, seconds


def build_dataset(dataset_cfg: ConfigDict) -> Any:
    from mmdet.registry import DATASETS

    from pennfudan_vit.apis import ConfigCheckError
    dataset = DATASETS.build(copy.deepcopy(dataset_cfg))
    if len(dataset) == 0:
        raise ConfigCheckError(f'dataset {_leaf_dataset(dataset_cfg).get("ann_file")} is empty')
    return dataset


def _to_float(obj: Any) -> Any:
    """Cast the low-precision floating tensors in a (nested) output to fp32."""
    import torch
    if isinstance(obj, torch.Tensor):
        return obj.float() if obj.is_floating_point() else obj
    if isinstance(obj, (list, tuple)):
        return type(obj)(_to_float(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _to_float(v) for k, v in obj.items()}
    return obj


def add_cpu_bf16_fp32_islands(model: nn.Module) -> None:
    """Keep RoIAlign and box/mask post-processing in fp32 under CPU bf16 autocast.

    mmcv's CPU RoIAlign and NMS have no bf16 kernels, and mmdet casts the RoIs
    to the feature dtype (bf16 boxes are 4 px coarse at 640 px). So the RoI
    extractors get fp32 features and the heads' raw outputs become fp32, as
    losses and decoding want; the convolutions and matmuls stay bf16.
    """
    from mmdet.models.roi_heads.roi_extractors import BaseRoIExtractor
    for module in model.modules():
        if isinstance(module, BaseRoIExtractor):
            module.register_forward_pre_hook(
                lambda m, args: (_to_float(tuple(args[0])), ) + tuple(args[1:]))
    for path in ('rpn_head', 'roi_head.bbox_head', 'roi_head.mask_head'):
        try:
            head = model.get_submodule(path)
        except AttributeError:
            continue
        head.register_forward_hook(lambda m, args, out: _to_float(out))


def autocast_context(device: str, amp: bool) -> Callable[[], Any]:
    """A context factory: autocast (fp16 on CUDA, bf16 on CPU) when ``amp``."""
    import torch
    if not amp:
        return nullcontext
    dtype = torch.float16 if device == 'cuda' else torch.bfloat16
    return lambda: torch.autocast(device, dtype=dtype)


def build_optim_wrapper(model: nn.Module, cfg: Config, device: str,
                        amp: bool) -> Tuple[Any, str]:
    """The config's optimizer wrapper, made to run on ``device``; and its precision.

    CUDA keeps the config's wrapper (``--amp`` forces ``AmpOptimWrapper``).
    mmengine's ``AmpOptimWrapper`` needs CUDA, so CPU uses ``OptimWrapper``, and
    ``--amp`` on CPU one whose ``optim_context`` adds bf16 autocast to the
    forward pass (backward follows the forward dtypes; the step stays fp32).
    """
    import torch
    from mmengine.optim import OptimWrapper
    from mmengine.optim import build_optim_wrapper as build

    class CPUBF16OptimWrapper(OptimWrapper):
        """``OptimWrapper`` whose forward pass runs under CPU bf16 autocast."""

        @contextmanager
        def optim_context(self, model: nn.Module) -> Iterator[None]:
            with super().optim_context(model), torch.autocast('cpu', dtype=torch.bfloat16):
                yield

    ow_cfg = copy.deepcopy(cfg.optim_wrapper)
    if device == 'cuda':
        if amp:
            ow_cfg['type'] = 'AmpOptimWrapper'
            ow_cfg.setdefault('loss_scale', 'dynamic')
        is_amp = ow_cfg.get('type') == 'AmpOptimWrapper'
        precision = str(ow_cfg.get('dtype') or 'float16') if is_amp else 'float32'
    else:
        for key in ('loss_scale', 'dtype', 'use_fsdp'):
            ow_cfg.pop(key, None)
        ow_cfg['type'] = CPUBF16OptimWrapper if amp else 'OptimWrapper'
        precision = 'bfloat16' if amp else 'float32'
    return build(model, ow_cfg), precision


# ----------------------------------------------------------------------------- profile


@contextmanager
def stage_ranges(model: nn.Module) -> Iterator[List[str]]:
    """Label the forward of each model stage as a ``stage:<path>`` profiler range."""
    from torch.profiler import record_function
    handles, names = [], []
    for path in STAGES:
        try:
            module = model.get_submodule(path)
        except AttributeError:
            continue
        name, open_ranges = f'stage:{path}', []

        def enter(m, args, _name=name, _open=open_ranges):
            rf = record_function(_name)
            rf.__enter__()
            _open.append(rf)

        def leave(m, args, out, _open=open_ranges):
            if _open:
                _open.pop().__exit__(None, None, None)

        handles += [module.register_forward_pre_hook(enter),
                    module.register_forward_hook(leave, always_call=True)]
        names.append(name)
    try:
        yield names
    finally:
        for h in handles:
            h.remove()


def profile_calls(model: nn.Module, fn: Callable[[Any], Any], items: Sequence[Any],
                  device: str, iters: int) -> Dict[str, Any]:
    """Profile ``iters`` calls: top ops by self time, forward time per stage."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == 'cuda' else [])
    with stage_ranges(model) as stages, profile(activities=activities) as prof:
        _sync(device)
        start = time.perf_counter()
        for i in range(iters):
            fn(items[i % len(items)])
        _sync(device)
        wall = (time.perf_counter() - start) / iters
    events = prof.key_averages()
    n = iters

    def dev(e, attr):  # torch >= 2.4 names CUDA times "device"
        return getattr(e, attr.replace('cuda', 'device'), None) or getattr(e, attr, 0) or 0

    ops = [e for e in events if not e.key.startswith(('stage:', 'ProfilerStep'))]
    total_cpu = sum(e.self_cpu_time_total for e in ops) or 1.0
    total_dev = sum(dev(e, 'self_cuda_time_total') for e in ops) or 1.0

    def row(e):
        r = dict(name=e.key, calls=e.count / n, self_cpu_ms=e.self_cpu_time_total / n / 1e3,
                 self_cpu_pct=100.0 * e.self_cpu_time_total / total_cpu)
        if device == 'cuda':
            r.update(self_cuda_ms=dev(e, 'self_cuda_time_total') / n / 1e3,
                     self_cuda_pct=100.0 * dev(e, 'self_cuda_time_total') / total_dev)
        return r

    result = dict(iters=n, wall_ms_per_iter=wall * 1e3,
                  top_cpu=[row(e) for e in sorted(ops, key=lambda e: -e.self_cpu_time_total)
                           [:TOP_OPS]])
    if device == 'cuda':
        result['top_cuda'] = [row(e) for e in sorted(
            ops, key=lambda e: -dev(e, 'self_cuda_time_total'))[:TOP_OPS]]
    by_key = {e.key: e for e in events}
    result['stages_forward'] = [
        dict(stage=s[len('stage:'):], cpu_ms=by_key[s].cpu_time_total / n / 1e3,
             **({'cuda_ms': dev(by_key[s], 'cuda_time_total') / n / 1e3}
                if device == 'cuda' else {}))
        for s in stages if s in by_key]
    return result


def format_profile(title: str, prof: Dict[str, Any]) -> str:
    lines = [f'\n{title}: {prof["iters"]} profiled iterations, '
             f'{prof["wall_ms_per_iter"]:.1f} ms/iter with profiler overhead']
    for key, unit in (('top_cpu', 'cpu'), ('top_cuda', 'cuda')):
        if key not in prof:
            continue
        lines.append(f'  top {len(prof[key])} ops by self {unit.upper()} time (per iteration)')
        lines.append(f'  {"op":<44} {"self ms":>9} {"%":>6} {"calls":>7}')
        for r in prof[key]:
            lines.append(f'  {r["name"][:44]:<44} {r[f"self_{unit}_ms"]:>9.2f} '
                         f'{r[f"self_{unit}_pct"]:>6.1f} {r["calls"]:>7.1f}')
    if prof['stages_forward']:
        lines.append('  forward time per stage, inclusive (per iteration)')
        for r in prof['stages_forward']:
            extra = f'  cuda {r["cuda_ms"]:.2f} ms' if 'cuda_ms' in r else ''
            lines.append(f'  {r["stage"]:<44} {r["cpu_ms"]:>9.2f} ms{extra}')
    return '\n'.join(lines)


# ----------------------------------------------------------------------------- phases


def _cuda_peak(device: str) -> Optional[float]:
    import torch
    return torch.cuda.max_memory_allocated() / 2**20 if device == 'cuda' else None


def _reset_cuda_peak(device: str) -> None:
    if device == 'cuda':
        import torch
        torch.cuda.reset_peak_memory_stats()


def bench_infer(model: nn.Module, cfg: Config, args: argparse.Namespace, device: str,
                batch_size: int, pools: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Latency at batch 1 and throughput at ``batch_size`` of ``model.test_step``.

    ``pools``, if given, receives the prebuilt batches (``infer_singles``,
    ``infer_batches``) for the reference.
    """
    import torch
    dataset = build_dataset(cfg.test_dataloader.dataset)
    num = min(args.warmup + args.iters, POOL_MAX)
    singles, data_s1 = build_batches(dataset, 1, num)
    batches, data_sn = build_batches(dataset, batch_size, num)
    if pools is not None:
        pools.update(infer_singles=singles, infer_batches=batches)
    _reset_cuda_peak(device)
    model.eval()
    autocast = autocast_context(device, args.amp)
    detections = []

    def run_batch(data):
        detections.extend(len(s.pred_instances) for s in model.test_step(data))

    with torch.inference_mode(), autocast():
        latency = time_calls(model.test_step, singles, args.warmup, args.iters, device)
        step = time_calls(run_batch, batches, args.warmup, args.iters, device)
        prof = (profile_calls(model, model.test_step, batches, device,
                              min(args.iters, PROFILE_ITERS)) if args.profile else None)
    sec = summarize(step)
    result = dict(
        precision='bfloat16' if args.amp and device == 'cpu' else
        'float16' if args.amp else 'float32',
        latency_ms_batch1=summarize(latency, 1e3), sec_per_batch=sec,
        img_per_s=batch_size / sec['median'], batch_size=batch_size,
        data_s_per_batch=summarize(data_sn), data_s_per_image=summarize(data_s1),
        detections_per_img=sum(detections) / max(len(detections), 1),
        images=len(dataset), max_rss_mib=max_rss_mib(), cuda_max_allocated_mib=_cuda_peak(device))
    if prof:
        result['profile'] = prof
    return result


def bench_train(model: nn.Module, cfg: Config, args: argparse.Namespace, device: str,
                batch_size: int, pools: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Seconds per ``model.train_step`` (forward, backward, optimizer step).

    ``pools``, if given, receives the prebuilt batches (``train_batches``).
    """
    dataset = build_dataset(cfg.train_dataloader.dataset)
    batches, data_s = build_batches(dataset, batch_size, min(args.warmup + args.iters, POOL_MAX))
    if pools is not None:
        pools['train_batches'] = batches
    optim_wrapper, precision = build_optim_wrapper(model, cfg, device, args.amp)
    _reset_cuda_peak(device)
    model.train()
    losses = []

    def step(data):
        losses.append(model.train_step(data, optim_wrapper)['loss'].item())

    times = time_calls(step, batches, args.warmup, args.iters, device)
    prof = (profile_calls(model, step, batches, device, min(args.iters, PROFILE_ITERS))
            if args.profile else None)
    sec = summarize(times)
    result = dict(
        precision=precision, optim_wrapper=type(optim_wrapper).__name__,
        sec_per_iter=sec, img_per_s=batch_size / sec['median'],
        img_per_s_range=[batch_size / sec['max'], batch_size / sec['min']],
        batch_size=batch_size, data_s_per_batch=summarize(data_s),
        loss_first=losses[0], loss_last=losses[-1], images=len(dataset),
        max_rss_mib=max_rss_mib(), cuda_max_allocated_mib=_cuda_peak(device))
    if prof:
        result['profile'] = prof
    return result


def bench_loader(cfg: Config, args: argparse.Namespace) -> Dict[str, Any]:
    """The config's train DataLoader alone: s/batch, and the first batch of the first
    and of the second epoch (worker start-up, which ``persistent_workers`` saves)."""
    from mmengine.runner import Runner

    from pennfudan_vit.apis import ConfigCheckError
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader = Runner.build_dataloader(loader_cfg, seed=0)
    need = args.warmup + args.iters + 1
    if len(loader) < need:
        raise ConfigCheckError(f'--mode data needs {need} batches (1 + warmup + iters) from one '
                               f'epoch; the train loader has {len(loader)}')
    start = time.perf_counter()
    batches = iter(loader)
    next(batches)
    epoch_start = time.perf_counter() - start
    times = []
    for i in range(args.warmup + args.iters):
        start = time.perf_counter()
        next(batches)
        if i >= args.warmup:
            times.append(time.perf_counter() - start)
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


# ----------------------------------------------------------------------------- reference


def load_reference_module() -> Any:
    """``tools/torchvision_reference.py``, imported by path (tools/ is no package)."""
    import importlib.util
    path = osp.join(osp.dirname(osp.abspath(__file__)), 'torchvision_reference.py')
    spec = importlib.util.spec_from_file_location('torchvision_reference', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def reference_backbone_args(cfg: Config) -> Dict[str, Any]:
    """The config's ViT settings (arch, patch size, drop path), for an equal backbone."""
    from pennfudan_vit.apis import ConfigCheckError
    backbone = cfg.model.get('backbone', {})
    if not _type_name(backbone).endswith('VisionTransformer'):
        raise ConfigCheckError(f'--reference torchvision needs a VisionTransformer backbone; '
                               f'the config has {_type_name(backbone) or "none"}')
    return dict(arch=backbone.get('arch', 'base'), patch_size=backbone.get('patch_size', 16),
                drop_path_rate=backbone.get('drop_path_rate', 0.0))


def convert_pool(ref: Any, batches: Sequence[dict], device: str,
                 with_targets: bool) -> Tuple[List[Any], List[float]]:
    """mmdet batches -> torchvision (images, targets), and the seconds each took."""
    items, seconds = [], []
    for data in batches:
        start = time.perf_counter()
        items.append(ref.from_mmdet(data, device, with_targets))
        seconds.append(time.perf_counter() - start)
    return items, seconds


def bench_reference_infer(model: nn.Module, ref: Any, pools: Dict[str, Any],
                          args: argparse.Namespace, device: str,
                          batch_size: int) -> Dict[str, Any]:
    """Latency at batch 1 and throughput at ``batch_size`` of the reference, eval mode."""
    import torch
    singles, _ = convert_pool(ref, pools['infer_singles'], device, with_targets=False)
    batches, convert_s = convert_pool(ref, pools['infer_batches'], device, with_targets=False)
    _reset_cuda_peak(device)
    model.eval()
    detections = []

    def run_batch(item):
        detections.extend(len(out['boxes']) for out in model(item[0]))

    with torch.inference_mode():
        latency = time_calls(lambda item: model(item[0]), singles, args.warmup, args.iters,
                             device)
        step = time_calls(run_batch, batches, args.warmup, args.iters, device)
    sec = summarize(step)
    return dict(
        precision='float32', latency_ms_batch1=summarize(latency, 1e3), sec_per_batch=sec,
        img_per_s=batch_size / sec['median'], batch_size=batch_size,
        convert_s_per_batch=summarize(convert_s),
        detections_per_img=sum(detections) / max(len(detections), 1),
        max_rss_mib=max_rss_mib(), cuda_max_allocated_mib=_cuda_peak(device))


def bench_reference_train(model: nn.Module, ref: Any, pools: Dict[str, Any], cfg: Config,
                          args: argparse.Namespace, device: str,
                          batch_size: int) -> Dict[str, Any]:
    """Seconds per reference step: forward (loss dict), sum, backward, AdamW step."""
    import torch
    batches, convert_s = convert_pool(ref, pools['train_batches'], device, with_targets=True)
    opt_cfg = cfg.optim_wrapper.optimizer
    optimizer = torch.optim.AdamW(model.parameters(), lr=opt_cfg.lr,
                                  betas=tuple(opt_cfg.get('betas', (0.9, 0.999))),
                                  weight_decay=opt_cfg.get('weight_decay', 0.01))
    _reset_cuda_peak(device)
    model.train()
    losses = []

    def step(item):
        images, targets = item
        loss = sum(model(images, targets).values())
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        losses.append(loss.item())

    times = time_calls(step, batches, args.warmup, args.iters, device)
    sec = summarize(times)
    return dict(
        precision='float32', optimizer=f'AdamW(lr={opt_cfg.lr:g})',
        sec_per_iter=sec, img_per_s=batch_size / sec['median'],
        img_per_s_range=[batch_size / sec['max'], batch_size / sec['min']],
        batch_size=batch_size, convert_s_per_batch=summarize(convert_s),
        loss_first=losses[0], loss_last=losses[-1],
        max_rss_mib=max_rss_mib(), cuda_max_allocated_mib=_cuda_peak(device))


def bench_reference(cfg: Config, args: argparse.Namespace, device: str, batch_size: int,
                    input_size: Sequence[int], pools: Dict[str, Any]) -> Dict[str, Any]:
    """Build the torchvision reference and time it on our prebuilt batches."""
    import torch
    ref = load_reference_module()
    backbone = reference_backbone_args(cfg)
    model = ref.build_reference(input_size, **backbone).to(device)
    if args.channels_last:
        model.to(memory_format=torch.channels_last)
        model.backbone.vit.register_forward_pre_hook(
            lambda m, a: (a[0].contiguous(memory_format=torch.channels_last), ) + a[1:])
    result = dict(name=ref.NAME, backbone=backbone, input_size=list(input_size),
                  params_m=sum(p.numel() for p in model.parameters()) / 1e6)
    if 'infer_batches' in pools:
        result['infer'] = bench_reference_infer(model, ref, pools, args, device, batch_size)
    if 'train_batches' in pools:
        result['train'] = bench_reference_train(model, ref, pools, cfg, args, device, batch_size)
    return result


def speedups(record: Dict[str, Any]) -> Dict[str, float]:
    """Reference time / our time (> 1: we are faster), from the medians."""
    ref, out = record['reference'], {}
    if 'train' in record:
        out['train'] = (ref['train']['sec_per_iter']['median']
                        / record['train']['sec_per_iter']['median'])
    if 'infer' in record:
        out['infer_latency'] = (ref['infer']['latency_ms_batch1']['median']
                                / record['infer']['latency_ms_batch1']['median'])
        out['infer_throughput'] = record['infer']['img_per_s'] / ref['infer']['img_per_s']
    return out


# ----------------------------------------------------------------------------- report


def format_table(res: Dict[str, Any]) -> str:
    """A short human-readable summary of the JSON record."""
    size = 'x'.join(map(str, res['input_size'])) if res['input_size'] else 'config'
    lines = [f'\n{res["config_name"]} | {res["device"]} ({res["device_name"]}), '
             f'{res["threads"]} threads | input {size} | batch {res["batch_size"]} | '
             f'{res["iters"]} iters after {res["warmup"]} warm-up',
             f'{"measure":<38} {"median":>10}  {"spread":<30}']

    def add(label, s, fmt='{:.4f}'):
        spread = (f'IQR {fmt.format(s["q1"])}-{fmt.format(s["q3"])}, p90 {fmt.format(s["p90"])}'
                  if s['n'] > 1 else 'single run')
        lines.append(f'{label:<38} {fmt.format(s["median"]):>10}  {spread}')

    if 'data' in res:
        d = res['data']
        add(f'data loader s/batch ({d["num_workers"]} workers)', d['sec_per_batch'])
        lines.append(f'{"data loader img/s":<38} {d["img_per_s"]:>10.2f}')
        lines.append(f'{"data loader 1st batch, epoch 1 / 2 (s)":<38} '
                     f'{d["epoch_start_s"]:>10.3f}  {d["epoch_restart_s"]:.3f}')
    if 'infer' in res:
        r = res['infer']
        add(f'infer ms/img (batch 1, {r["precision"]})', r['latency_ms_batch1'], fmt='{:.1f}')
        add(f'infer s/batch (batch {r["batch_size"]})', r['sec_per_batch'])
        lines.append(f'{"infer img/s (batch %d)" % r["batch_size"]:<38} {r["img_per_s"]:>10.2f}')
        lines.append(f'{"infer detections/img":<38} {r["detections_per_img"]:>10.1f}')
        add('infer data s/batch (1 process)', r['data_s_per_batch'])
    if 'train' in res:
        r = res['train']
        add(f'train s/iter ({r["precision"]})', r['sec_per_iter'])
        lines.append(f'{"train img/s":<38} {r["img_per_s"]:>10.2f}')
        add('train data s/batch (1 process)', r['data_s_per_batch'])
    if 'reference' in res:
        ref = res['reference']
        lines.append(f'reference: {ref["name"]} ({ref["backbone"]["arch"]}, random init, '
                     'same batches)')
        if 'infer' in ref:
            add('  ref infer ms/img (batch 1, float32)', ref['infer']['latency_ms_batch1'],
                fmt='{:.1f}')
            lines.append(f'{"  ref infer img/s (batch %d)" % ref["infer"]["batch_size"]:<38} '
                         f'{ref["infer"]["img_per_s"]:>10.2f}')
            lines.append(f'{"  ref infer detections/img":<38} '
                         f'{ref["infer"]["detections_per_img"]:>10.1f}')
        if 'train' in ref:
            add('  ref train s/iter (float32)', ref['train']['sec_per_iter'])
        labels = dict(train='train s/iter', infer_latency='infer ms/img, batch 1',
                      infer_throughput='infer img/s, batch N')
        for key, value in (res.get('speedup_vs_reference') or {}).items():
            target = REFERENCE_TARGETS.get(key)
            lines.append(f'{"speed-up vs ref, " + labels[key]:<38} '
                         + (f'{value:>9.2f}x' if value is not None else f'{"n/a":>10}')
                         + (f'  issue target >= {target:g}x' if target else ''))
    mem = f'{res["max_rss_mib"]:.0f} MiB max RSS'
    for phase in ('infer', 'train'):
        if res.get(phase, {}).get('cuda_max_allocated_mib') is not None:
            mem += f', {phase} CUDA {res[phase]["cuda_max_allocated_mib"]:.0f} MiB'
    lines.append(f'{"peak memory":<38} {mem}')
    return '\n'.join(lines)


def main() -> None:
    args = parse_args()
    try:
        check_paths(args)
    except FileNotFoundError as e:
        sys.exit(f'error: {e}')
    import torch
    if args.device == 'cuda' and not torch.cuda.is_available():
        sys.exit(f'error: --device cuda but CUDA is not available (torch {torch.__version__}, '
                 f'built with CUDA {torch.version.cuda or "none"})')
    device = args.device or ('cuda' if torch.cuda.is_available() else 'cpu')
    if args.amp and device == 'cpu' and not torch.backends.mkldnn.is_available():
        print('[benchmark] no oneDNN: bf16 autocast on this CPU may be slow', file=sys.stderr)
    if args.threads:
        torch.set_num_threads(args.threads)

    import pennfudan_vit  # noqa: F401  (registers modules, safe torch.load globals)
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    from mmengine.logging import MMLogger
    from mmengine.runner import load_checkpoint, set_random_seed
    from mmengine.utils import import_modules_from_strings

    from pennfudan_vit.apis import TOOL_ERRORS, ConfigCheckError, atomic_write_json
    register_all_modules(init_default_scope=True)
    MMLogger.get_instance('benchmark', log_level='WARNING')  # keep stdout for the results
    try:
        cfg, notes = build_cfg(args)
        if cfg.get('custom_imports'):
            import_modules_from_strings(**cfg.custom_imports)
    except TOOL_ERRORS as e:
        sys.exit(f'error: {e}')
    for note in notes:
        print(f'[benchmark] {note}', file=sys.stderr)
    seed = (cfg.get('randomness') or {}).get('seed') or 0
    set_random_seed(seed)
    if device == 'cuda':
        torch.backends.cudnn.benchmark = bool(cfg.get('env_cfg', {}).get('cudnn_benchmark'))
    batch_size = cfg.train_dataloader.batch_size

    record: Dict[str, Any] = dict(
        config=args.config, config_name=osp.splitext(osp.basename(args.config))[0],
        mode=args.mode, device=device, batch_size=batch_size, iters=args.iters,
        warmup=args.warmup, amp=args.amp, channels_last=args.channels_last,
        checkpoint=args.checkpoint, cfg_options=dict(args.cfg_options or {}), seed=seed,
        input_size=list(args.input_size) if args.input_size else pipeline_size(
            cfg, 'test_dataloader' if args.mode == 'infer' else 'train_dataloader'),
        command=shlex.join(['python', 'tools/benchmark.py', *sys.argv[1:]]),
        time=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
    record.update(environment(device))
    record['threads'] = torch.get_num_threads()
    model = None
    if args.mode != 'data':
        try:
            model = MODELS.build(cfg.model)
            model.init_weights()
        except TOOL_ERRORS as e:
            sys.exit(f'error: model: {e}')
        if args.checkpoint:
            try:
                load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True,
                                logger='current')
            except Exception as e:  # not a checkpoint, unsafe pickle or other keys
                sys.exit(f'error: cannot load checkpoint {args.checkpoint}: '
                         f'{" ".join(str(e).split())[:300]}')
    try:
        if model is None:
            record['data'] = bench_loader(cfg, args)
        else:
            model.to(device)
            if args.channels_last:
                model.to(memory_format=torch.channels_last)
                model.backbone.register_forward_pre_hook(
                    lambda m, a: (a[0].contiguous(memory_format=torch.channels_last), ) + a[1:])
            if args.amp and device == 'cpu':
                add_cpu_bf16_fp32_islands(model)
            record['params_m'] = sum(p.numel() for p in model.parameters()) / 1e6
            pools = {} if args.reference else None
            if args.mode in ('infer', 'both'):
                record['infer'] = bench_infer(model, cfg, args, device, batch_size, pools)
            if args.mode in ('train', 'both'):
                record['train'] = bench_train(model, cfg, args, device, batch_size, pools)
            if args.reference:
                if not record['input_size']:
                    raise ConfigCheckError('--reference needs --input-size (the config '
                                           'pipelines fix no size)')
                set_random_seed(seed)
                record['reference'] = bench_reference(cfg, args, device, batch_size,
                                                      record['input_size'], pools)
                record['speedup_vs_reference'] = speedups(record)
    except (ConfigCheckError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
    except RuntimeError as e:
        if 'out of memory' in str(e).lower():
            sys.exit(f'error: out of memory at batch {batch_size}, input '
                     f'{record["input_size"]}: {str(e).splitlines()[0]}')
        raise
    record['max_rss_mib'] = max_rss_mib()
    record['load_avg_1m_end'] = os.getloadavg()[0] if hasattr(os, 'getloadavg') else None
    loss = record.get('train', {}).get('loss_last')
    if loss is not None and not math.isfinite(loss):
        print('[benchmark] warning: non-finite training loss', file=sys.stderr)
    if record['load_avg_1m_start'] and record['load_avg_1m_start'] > 0.5 * record['cpu_count']:
        print(f'[benchmark] warning: load average {record["load_avg_1m_start"]:.1f} on '
              f'{record["cpu_count"]} CPUs at start: the machine is busy, timings are noisy',
              file=sys.stderr)

    record = finite_or_none(record)
    for phase in ('train', 'infer'):
        if phase in record and 'profile' in record[phase]:
            print(format_profile(f'{phase} profile', record[phase]['profile']))
    print(format_table(record))
    if args.out:
        atomic_write_json(args.out, record)
        print(f'[benchmark] wrote {args.out}', file=sys.stderr)
    print(json.dumps(record, sort_keys=True, allow_nan=False))


if __name__ == '__main__':
    main()
