"""The human-readable summary of a benchmark record."""
from typing import Any, Dict

from .profiling import format_profile

# speed-ups over the torchvision reference that the speed issue asks for (printed, not enforced)
REFERENCE_TARGETS = dict(train=3.0, infer_latency=4.0)
SPEEDUP_LABELS = dict(train='train s/iter', infer_latency='infer ms/img, batch 1',
                      infer_throughput='infer img/s, batch N')


def format_table(res: Dict[str, Any]) -> str:
    """A short table of the record's medians and spreads."""
    size = 'x'.join(map(str, res['input_size'])) if res['input_size'] else 'config'
    lines = [f'\n{res["config_name"]} | {res["device"]} ({res["device_name"]}), '
             f'{res["threads"]} threads | input {size} | batch {res["batch_size"]} | '
             f'{res["iters"]} iters after {res["warmup"]} warm-up',
             f'{"measure":<38} {"median":>10}  {"spread":<30}']

    def add(label, s, fmt='{:.4f}'):
        spread = (f'IQR {fmt.format(s["q1"])}-{fmt.format(s["q3"])}, p90 {fmt.format(s["p90"])}'
                  if s['n'] > 1 else 'single run')
        lines.append(f'{label:<38} {fmt.format(s["median"]):>10}  {spread}')

    def value(label, x, fmt='{:>10.2f}'):
        lines.append(f'{label:<38} ' + fmt.format(x))

    if 'data' in res:
        d = res['data']
        add(f'data loader s/batch ({d["num_workers"]} workers)', d['sec_per_batch'])
        value('data loader img/s', d['img_per_s'])
        lines.append(f'{"data loader 1st batch, epoch 1 / 2 (s)":<38} '
                     f'{d["epoch_start_s"]:>10.3f}  {d["epoch_restart_s"]:.3f}')
    if 'infer' in res:
        r = res['infer']
        add(f'infer ms/img (batch 1, {r["precision"]})', r['latency_ms_batch1'], fmt='{:.1f}')
        add(f'infer s/batch (batch {r["batch_size"]})', r['sec_per_batch'])
        value(f'infer img/s (batch {r["batch_size"]})', r['img_per_s'])
        value('infer detections/img', r['detections_per_img'], '{:>10.1f}')
        add('infer data s/batch (1 process)', r['data_s_per_batch'])
    if 'train' in res:
        r = res['train']
        add(f'train s/iter ({r["precision"]})', r['sec_per_iter'])
        value('train img/s', r['img_per_s'])
        add('train data s/batch (1 process)', r['data_s_per_batch'])
    if 'reference' in res:
        ref = res['reference']
        lines.append(f'reference: {ref["name"]} ({ref["backbone"]["arch"]}, random init, '
                     'same batches)')
        if 'infer' in ref:
            add('  ref infer ms/img (batch 1, float32)', ref['infer']['latency_ms_batch1'],
                fmt='{:.1f}')
            value(f'  ref infer img/s (batch {ref["infer"]["batch_size"]})',
                  ref['infer']['img_per_s'])
            value('  ref infer detections/img', ref['infer']['detections_per_img'], '{:>10.1f}')
        if 'train' in ref:
            add('  ref train s/iter (float32)', ref['train']['sec_per_iter'])
        for key, x in (res.get('speedup_vs_reference') or {}).items():
            target = REFERENCE_TARGETS.get(key)
            lines.append(f'{"speed-up vs ref, " + SPEEDUP_LABELS[key]:<38} '
                         + (f'{x:>9.2f}x' if x is not None else f'{"n/a":>10}')
                         + (f'  issue target >= {target:g}x' if target else ''))
    if 'matmul_peak' in res:
        peak = res['matmul_peak']
        lines.append(f'{"dense fp32 matmul peak, GFLOP/s":<38} {peak["gflops_s"]:>10.1f}  '
                     f'{peak["n"]}x{peak["n"]}, {peak["threads"]} threads')
        for who, part in (('', res), ('ref ', res.get('reference', {}))):
            for phase, key, unit in (('infer', 'flops_batch1', 'img'),
                                     ('train', 'flops_per_iter', 'iter')):
                f = part.get(phase, {}).get(key)
                if f:
                    lines.append(f'{who + phase + " GFLOP/" + unit + ", GFLOP/s, of peak":<38} '
                                 f'{f["gflops"]:>10.1f}  {f["achieved_gflops_s"]:.1f} GFLOP/s, '
                                 f'{100 * f["fraction_of_matmul_peak"]:.1f}% of peak')
                    parts = ', '.join(f'{k} {v:.1f}' for k, v in
                                      list(f.get('gflops_by_op', {}).items())[:4])
                    lines.append(f'{"  top ops, GFLOP":<38} {parts}')
    mem = f'{res["max_rss_mib"]:.0f} MiB max RSS'
    for phase in ('infer', 'train'):
        if res.get(phase, {}).get('cuda_max_allocated_mib') is not None:
            mem += f', {phase} CUDA {res[phase]["cuda_max_allocated_mib"]:.0f} MiB'
    lines.append(f'{"peak memory":<38} {mem}')
    return '\n'.join(lines)


def format_report(res: Dict[str, Any]) -> str:
    """The profiles (with ``--profile``), then the table."""
    parts = [format_profile(f'{phase} profile', res[phase]['profile'])
             for phase in ('train', 'infer') if 'profile' in res.get(phase, {})]
    return '\n'.join(parts + [format_table(res)])
