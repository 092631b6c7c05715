"""The step benchmark of a config: one run as a JSON-ready record, and its text report."""
import copy
import json
import os
import platform
import time
from dataclasses import replace
from importlib.metadata import version
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

from pennfudan_vit.config import (check_dataset_files, drop_pretrained, load_config,
                                  set_input_size)
from pennfudan_vit.detector import load_detector
from pennfudan_vit.engine.mixed_precision import adapt_to_cpu_bf16
from pennfudan_vit.errors import UserError
from pennfudan_vit.hardware import cpu_info

from .phases import (Settings, bench_loader, build_batches, format_profile, measure_infer,
                     measure_train)
from .precision import amp_dtype_name, build_optim_wrapper, use_channels_last
from .timing import memory
from .torchvision_baseline import (NAME, BaselineDetector, baseline_backbone,
                                   plain_optim_wrapper, speedups)

MODE_SPLITS = dict(train=['train_dataloader'], data=['train_dataloader'],
                   infer=['test_dataloader'], both=['train_dataloader', 'test_dataloader'])
# printed beside the speed-ups only: against the reference in fp32, and mixed precision
# against fp32 on a CPU with bf16 units
TARGETS = dict(train=3.0, infer_latency=4.0)
AMP_TARGETS = dict(train=2.0, infer_latency=2.5)


def prepare_config(config: str, cfg_options: Optional[Dict[str, Any]] = None,
                   data_root: Optional[str] = None, mode: str = 'both',
                   input_size: Optional[Sequence[int]] = None, batch_size: Optional[int] = None,
                   splits: Sequence[str] = ()) -> Tuple[Config, List[str]]:
    """``config`` as asked, without pretrained init, its data checked; and notes."""
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    cfg = load_config(config, cfg_options, data_root)
    dropped = drop_pretrained(cfg)
    if input_size:
        set_input_size(cfg, tuple(input_size))
    cfg.train_dataloader.batch_size = batch_size or cfg.train_dataloader.batch_size
    check_dataset_files(cfg, [*MODE_SPLITS[mode], *splits])
    return cfg, [f'dropped pretrained init ({", ".join(dropped)}): speed needs no weights'
                 ] if dropped and mode != 'data' else []


def environment(device: str) -> Dict[str, Any]:
    """Library versions, device, CPU (model, native bf16/int8 units), threads and load."""
    cpu = cpu_info()
    return dict(device_name=torch.cuda.get_device_name(0) if device.startswith('cuda') else
                cpu['model'], cpu=cpu,
                versions=dict({m: version(m) for m in ('mmcv', 'mmdet', 'mmengine', 'mmpretrain')},
                              torch=torch.__version__, python=platform.python_version(),
                              cuda=torch.version.cuda),
                platform=platform.platform(), cpu_count=os.cpu_count(),
                threads=torch.get_num_threads(), interop_threads=torch.get_num_interop_threads(),
                load_avg_1m_start=os.getloadavg()[0])


def _time_models(cfg: Config, s: Settings, rec: Dict[str, Any], mode: str,
                 checkpoint: Optional[str], reference: bool, compare_fp32: bool) -> None:
    """Time ours and, with ``reference``, the torchvision reference on the same batches;
    with ``compare_fp32`` (and ``s.amp``), ours in fp32 too, into ``rec['fp32']``."""
    model, _ = load_detector(cfg, checkpoint, s.device)
    fp32_model = copy.deepcopy(model) if compare_fp32 else None   # the same weights
    if amp_dtype_name(s.device, s.amp) == 'bfloat16':
        adapt_to_cpu_bf16(model)
    if s.channels_last:
        for m in filter(None, (model, fp32_model)):
            use_channels_last(m, m.backbone)
    # name -> (model, optim wrapper config, mixed precision)
    models = dict(ours=(model, cfg.optim_wrapper, s.amp))
    if compare_fp32:
        models['fp32'], rec['fp32'] = (fp32_model, cfg.optim_wrapper, False), {}
    if reference:
        base = BaselineDetector(cfg, rec['input_size']).to(s.device)
        if s.channels_last:
            use_channels_last(base, base.net.backbone.vit)
        models['reference'] = (base, plain_optim_wrapper(cfg), False)
        rec['reference'] = dict(name=NAME, backbone=baseline_backbone(cfg),
                                input_size=rec['input_size'])
    parts = dict(ours=rec, reference=rec.get('reference'), fp32=rec.get('fp32'))
    for name, (m, _, _) in models.items():
        parts[name]['params_m'] = sum(p.numel() for p in m.parameters()) / 1e6
    if mode in ('infer', 'both'):
        (singles, batches), data = build_batches(cfg.test_dataloader.dataset, s,
                                                 (1, s.batch_size))
        for name, (m, _, amp) in models.items():
            parts[name]['infer'] = dict(measure_infer(
                lambda d, m=m: [len(r['boxes'] if isinstance(r, dict) else r.pred_instances)
                                for r in m.eval().test_step(d)], singles, batches,
                replace(s, amp=amp)), precision=amp_dtype_name(s.device, amp), **data)
    if mode in ('train', 'both'):
        (batches, ), data = build_batches(cfg.train_dataloader.dataset, s, (s.batch_size, ))
        for name, (m, ow_cfg, amp) in models.items():
            ow, precision = build_optim_wrapper(m.train(), ow_cfg, s.device, amp)
            parts[name]['train'] = dict(measure_train(
                lambda d, m=m, ow=ow: m.train_step(d, ow)['loss'].item(), batches,
                replace(s, amp=amp)), precision=precision, optim_wrapper=type(ow).__name__,
                **data)
    for key, other in (('reference', 'speedup_vs_reference'), ('fp32', 'speedup_vs_fp32')):
        if key in rec:
            rec[other] = speedups(rec, rec[key])


def run_benchmark(cfg: Config, s: Settings, mode: str = 'both',
                  input_size: Optional[Sequence[int]] = None, checkpoint: Optional[str] = None,
                  reference: bool = False, compare_fp32: bool = False,
                  **header: Any) -> Dict[str, Any]:
    """The record of ``mode`` (``infer``, ``train``, ``both``, ``data``) after ``header``
    items, with ``warnings`` on what makes the figures suspect."""
    from mmengine.runner import set_random_seed
    seed = (cfg.get('randomness') or {}).get('seed') or 0
    set_random_seed(seed)
    rec: Dict[str, Any] = dict(
        header, mode=mode, device=s.device, batch_size=s.batch_size, iters=s.iters,
        warmup=s.warmup, amp=s.amp, channels_last=s.channels_last, checkpoint=checkpoint,
        seed=seed, input_size=list(input_size) if input_size else None,
        time=time.strftime('%Y-%m-%dT%H:%M:%S%z'), **environment(s.device))
    try:
        if mode == 'data':
            rec['data'] = bench_loader(cfg, s)
        else:
            _time_models(cfg, s, rec, mode, checkpoint, reference, compare_fp32)
    except torch.OutOfMemoryError as err:
        raise UserError(f'out of memory at batch {s.batch_size}, input {rec["input_size"]}: '
                        f'{str(err).splitlines()[0]}; lower --batch-size or --input-size'
                        ) from err
    load, cpus, warnings = rec['load_avg_1m_start'], rec['cpu_count'], []
    if s.amp and amp_dtype_name(s.device, True) == 'float32':
        warnings.append('--amp: this CPU has no native bf16 units, so this run is fp32')
    if load > 0.5 * cpus:
        warnings.append(f'load average {load:.1f} on {cpus} CPUs at start: the machine is busy, '
                        'timings are noisy')
    rec.update(max_rss_mib=memory(s.device)['max_rss_mib'], load_avg_1m_end=os.getloadavg()[0],
               warnings=warnings)
    return json.loads(json.dumps(rec), parse_constant=lambda nan: None)   # JSON-safe


def format_report(res: Dict[str, Any]) -> str:
    """The profiles (with ``--profile``), then a short table of medians and spreads."""
    lines = [format_profile(f'{who}{phase} profile', part[phase]['profile'])
             for who, part in (('', res), ('fp32 ', res.get('fp32', {})),
                               ('ref ', res.get('reference', {})))
             for phase in ('train', 'infer') if 'profile' in part.get(phase, {})]
    lines += [f'\n{res["config_name"]} | {res["device"]} ({res["device_name"]}), '
              f'{res["threads"]} threads | input {res["input_size"] or "config"} | batch '
              f'{res["batch_size"]} | {res["iters"]} iters after {res["warmup"]} warm-up | '
              f'{amp_dtype_name(res["device"], res["amp"])}']

    def add(label: str, x: Any, fmt: str = '{:.4f}', tail: str = '') -> None:
        if isinstance(x, dict):   # statistics of :func:`timing.summarize`
            tail = (f'IQR {fmt.format(x["q1"])}-{fmt.format(x["q3"])}, p90 '
                    f'{fmt.format(x["p90"])}' if x['n'] > 1 else 'single run')
            x = x['median']
        lines.append(f'{label:<38} {fmt.format(x):>10}  {tail}'.rstrip())

    rows = [('data', 'sec_per_batch', 'data loader s/batch', '{:.4f}'),
            ('data', 'epoch_start_s', 'data loader 1st batch, epoch 1', '{:.3f}'),
            ('data', 'epoch_restart_s', 'data loader 1st batch, epoch 2', '{:.3f}'),
            ('infer', 'latency_ms_batch1', 'infer ms/img, batch 1', '{:.1f}'),
            ('infer', 'img_per_s', 'infer img/s, batch N', '{:.2f}'),
            ('infer', 'detections_per_img', 'infer detections/img', '{:.1f}'),
            ('train', 'sec_per_iter', 'train s/iter', '{:.4f}'), ('train', 'img_per_s',
                                                                   'train img/s', '{:.2f}')]
    for who, part in (('', res), ('fp32 ', res.get('fp32', {})),
                      ('ref ', res.get('reference', {}))):
        for phase, key, label, fmt in rows:
            if phase in part:
                add(who + label, part[phase][key], fmt)
    for other, targets in (('reference', TARGETS), ('fp32', AMP_TARGETS)):
        for key, x in (res.get(f'speedup_vs_{other}') or {}).items():
            add(f'speed-up vs {other}, {key}', 'n/a' if x is None else f'{x:.2f}x', '{}',
                f'target >= {targets[key]:g}x' if key in targets else '')
    add('peak memory, max RSS (MiB)', res['max_rss_mib'], '{:.0f}', ''.join(
        f'{p} CUDA {res[p]["cuda_max_allocated_mib"]:.0f} MiB ' for p in ('infer', 'train')
        if (res.get(p) or {}).get('cuda_max_allocated_mib')))
    return '\n'.join(lines)
