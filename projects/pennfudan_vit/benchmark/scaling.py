"""How cost grows: step time against input size (from ``tools/benchmark.py`` records) and
against the number of people in an image (timed here, one image per step)."""
import copy
import json
import os.path as osp
from collections import defaultdict
from typing import Any, Dict, List, Sequence

import numpy as np
import torch
from mmengine.config import Config

from ..errors import UserError
from .phases import build_dataset
from .precision import build_optim_wrapper
from .prepare import build_model
from .timing import time_calls

ATTENTION_OPS = ('scaled_dot_product', 'bmm', 'baddbmm')


def _attention_share(flops: Dict[str, Any]) -> float:
    ops = flops.get('gflops_by_op', {})
    att = sum(v for k, v in ops.items() if any(a in k for a in ATTENTION_OPS))
    return att / flops['gflops'] if flops.get('gflops') else float('nan')


def size_row(path: str) -> Dict[str, Any]:
    """One table row from a benchmark record (``--mode both --flops`` at one input size)."""
    with open(path) as f:
        rec = json.load(f)
    if 'train' not in rec or 'flops_per_iter' not in rec['train']:
        raise UserError(f'{path} is not a tools/benchmark.py --mode both --flops record')
    train, infer = rec['train'], rec['infer']
    h, w = rec['input_size']
    return dict(config=rec['config_name'], size=h if h == w else f'{h}x{w}',
                tokens=(h // 16) * (w // 16), batch=rec['batch_size'],
                train_s=train['sec_per_iter']['median'],
                train_gflops_img=train['flops_per_iter']['gflops'] / rec['batch_size'],
                train_attention=_attention_share(train['flops_per_iter']),
                train_of_peak=train['flops_per_iter']['fraction_of_matmul_peak'],
                infer_ms=infer['latency_ms_batch1']['median'],
                infer_gflops=infer['flops_batch1']['gflops'],
                infer_of_peak=infer['flops_batch1']['fraction_of_matmul_peak'],
                max_rss_gib=rec['max_rss_mib'] / 1024, threads=rec['threads'])


def format_size_table(rows: Sequence[Dict[str, Any]]) -> str:
    """A markdown table of :func:`size_row` rows."""
    out = ['| config | input | tokens | train s/iter (batch) | train GFLOP/img | attention share '
           '| train % of matmul peak | infer ms/img | infer GFLOP | infer % of peak | '
           'max RSS GiB |', '|' + '---|' * 11]
    for r in rows:
        out.append(f'| {r["config"]} | {r["size"]} | {r["tokens"]} | {r["train_s"]:.2f} '
                   f'({r["batch"]}) | {r["train_gflops_img"]:.0f} | '
                   f'{100 * r["train_attention"]:.0f}% | {100 * r["train_of_peak"]:.0f}% | '
                   f'{r["infer_ms"]:.0f} | {r["infer_gflops"]:.0f} | '
                   f'{100 * r["infer_of_peak"]:.0f}% | {r["max_rss_gib"]:.1f} |')
    return '\n'.join(out)


def _people(sample) -> int:
    return int(len(sample.gt_instances))


def people_timing(cfg: Config, checkpoint: str, images: int = 24, repeats: int = 2,
                  device: str = 'cpu') -> Dict[str, List[Dict[str, Any]]]:
    """Per image: people in it, train-step seconds (train split, batch 1) and inference
    ms with ``checkpoint``'s weights (test split, batch 1), median of ``repeats``."""
    from mmengine.dataset import pseudo_collate
    from .phases import Settings, pytorch_backend
    model = build_model(cfg, device, checkpoint)
    backend = pytorch_backend(model, cfg, Settings(device=device, batch_size=1))
    test = build_dataset(cfg.test_dataloader.dataset)
    out: Dict[str, List[Dict[str, Any]]] = dict(infer=[], train=[])
    with backend.context():
        for i in range(len(test)):
            data = pseudo_collate([test[i]])
            dets = backend.predict(data)[0]
            ms = np.median(time_calls(backend.predict, [data], 0, repeats, device)) * 1e3
            out['infer'].append(dict(people=_people(data['data_samples'][0]),
                                     detections=dets, ms=float(ms)))
    train_model = copy.deepcopy(model).train()
    optim_wrapper, _ = build_optim_wrapper(train_model, cfg, device, False)
    train = build_dataset(cfg.train_dataloader.dataset)
    for i in np.linspace(0, len(train) - 1, min(images, len(train))).astype(int):
        data = pseudo_collate([train[int(i)]])
        step = lambda d: train_model.train_step(d, optim_wrapper)  # noqa: E731
        s = np.median(time_calls(step, [data], 1, repeats, device))
        out['train'].append(dict(people=_people(data['data_samples'][0]), s=float(s)))
    return out


def format_people_table(timing: Dict[str, List[Dict[str, Any]]]) -> str:
    """A markdown table: per number of people, images and median step times."""
    buckets = lambda n: '1' if n <= 1 else '2' if n == 2 else '3-4' if n <= 4 else '5+'  # noqa
    groups: Dict[str, Dict[str, list]] = defaultdict(lambda: defaultdict(list))
    for r in timing['infer']:
        groups[buckets(r['people'])]['infer'].append(r)
    for r in timing['train']:
        groups[buckets(r['people'])]['train'].append(r)
    out = ['| people | test images | infer ms/img (median) | detections/img | train images | '
           'train s/img (median) |', '|---|---|---|---|---|---|']
    for key in ('1', '2', '3-4', '5+'):
        inf, tr = groups[key]['infer'], groups[key]['train']
        out.append(f'| {key} | {len(inf)} | '
                   f'{np.median([r["ms"] for r in inf]) if inf else float("nan"):.0f} | '
                   f'{np.mean([r["detections"] for r in inf]) if inf else float("nan"):.1f} | '
                   f'{len(tr)} | {np.median([r["s"] for r in tr]) if tr else float("nan"):.2f} |')
    return '\n'.join(out)


def record_paths(out_dir: str, configs: Sequence[str], sizes: Sequence[int]) -> List[str]:
    """Where ``tools/benchmark_scaling.py`` keeps the record of each (config, size)."""
    return [osp.join(out_dir, f'{osp.splitext(osp.basename(c))[0]}_{s}.json')
            for c in configs for s in sizes]
