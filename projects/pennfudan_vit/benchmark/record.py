"""One benchmark run as a JSON-ready record: settings, environment, every phase."""
import math
import time
from typing import Any, Dict, List, Optional, Sequence

import torch
from mmengine.config import Config

from ..errors import UserError
from .environment import environment, load_average
from .phases import INFER_BACKENDS, Settings, bench_infer, bench_loader, bench_train
from .prepare import build_model
from .reference import bench_reference, speedups
from .timing import max_rss_mib
from .utilization import add_utilization, matmul_peak


def finite_or_none(value: Any) -> Any:
    """JSON-safe copy: non-finite floats become ``None``."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: finite_or_none(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [finite_or_none(v) for v in value]
    return value


def run_benchmark(cfg: Config, s: Settings, mode: str = 'both',
                  input_size: Optional[Sequence[int]] = None,
                  checkpoint: Optional[str] = None, reference: Optional[str] = None,
                  backend: str = 'pytorch', **header: Any) -> Dict[str, Any]:
    """Time ``mode`` (``infer``, ``train``, ``both``: infer then train, ``data``) with
    the inference ``backend`` (a key of ``INFER_BACKENDS``) and, with
    ``reference='torchvision'``, the reference on the same batches.

    ``input_size`` is recorded (the size the pipelines fix); ``header`` items
    (config, command, ...) open the record.
    """
    if reference and not input_size:
        raise UserError('--reference needs --input-size (the config pipelines fix no size)')
    from mmengine.runner import set_random_seed
    seed = (cfg.get('randomness') or {}).get('seed') or 0
    set_random_seed(seed)
    if s.device == 'cuda':
        torch.backends.cudnn.benchmark = bool(cfg.get('env_cfg', {}).get('cudnn_benchmark'))
    record: Dict[str, Any] = dict(
        header, mode=mode, device=s.device, batch_size=s.batch_size, iters=s.iters,
        warmup=s.warmup, amp=s.amp, channels_last=s.channels_last, checkpoint=checkpoint,
        seed=seed, input_size=list(input_size) if input_size else None,
        time=time.strftime('%Y-%m-%dT%H:%M:%S%z'))
    record.update(environment(s.device))
    if mode == 'data':
        record['data'] = bench_loader(cfg, s)
    else:
        model = build_model(cfg, s.device, checkpoint, s.channels_last, s.amp)
        record['params_m'] = sum(p.numel() for p in model.parameters()) / 1e6
        pools: Optional[Dict[str, Any]] = {} if reference else None
        try:
            if mode in ('infer', 'both'):
                record['infer'] = bench_infer(INFER_BACKENDS[backend](model, cfg, s), cfg, s,
                                              pools)
            if mode in ('train', 'both'):
                record['train'] = bench_train(model, cfg, s, pools)
            if reference:
                set_random_seed(seed)
                record['reference'] = bench_reference(cfg, s, input_size, pools)
                record['speedup_vs_reference'] = speedups(record)
        except torch.OutOfMemoryError as err:
            raise UserError(f'out of memory at batch {s.batch_size}, input {record["input_size"]}'
                            f': {str(err).splitlines()[0]}; lower --batch-size or '
                            '--input-size') from err
    if s.flops and mode != 'data':
        record['matmul_peak'] = matmul_peak(s.device)
        add_utilization(record, record['matmul_peak']['gflops_s'])
    record['max_rss_mib'] = max_rss_mib()
    record['load_avg_1m_end'] = load_average()
    return finite_or_none(record)


def record_warnings(record: Dict[str, Any]) -> List[str]:
    """What makes a record's figures suspect: a non-finite loss, a busy machine."""
    found = []
    train = record.get('train')
    if train and train.get('loss_last') is None:   # finite_or_none made a NaN / inf None
        found.append('non-finite training loss')
    load, cpus = record.get('load_avg_1m_start'), record.get('cpu_count')
    if load and cpus and load > 0.5 * cpus:
        found.append(f'load average {load:.1f} on {cpus} CPUs at start: the machine is busy, '
                     'timings are noisy')
    return found
