"""``--profile``: top ops by self time and forward time per model stage."""
import time
from contextlib import contextmanager
from typing import Any, Callable, Dict, Iterator, List, Sequence

from torch import nn

from .timing import sync

TOP_OPS = 15
# forward ranges labelled in the profile (attribute paths of a two-stage detector)
STAGES = ('backbone', 'neck', 'rpn_head', 'roi_head.bbox_roi_extractor', 'roi_head.bbox_head',
          'roi_head.mask_roi_extractor', 'roi_head.mask_head')


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


def _device_time(event: Any, attr: str) -> float:
    # torch >= 2.4 names CUDA times "device"
    return getattr(event, attr.replace('cuda', 'device'), None) or getattr(event, attr, 0) or 0


def profile_calls(model: nn.Module, fn: Callable[[Any], Any], items: Sequence[Any],
                  device: str, iters: int) -> Dict[str, Any]:
    """Profile ``iters`` calls of ``fn``: top ops by self time, forward time per stage."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == 'cuda' else [])
    with stage_ranges(model) as stages, profile(activities=activities) as prof:
        sync(device)
        start = time.perf_counter()
        for i in range(iters):
            fn(items[i % len(items)])
        sync(device)
        wall = (time.perf_counter() - start) / iters
    events = prof.key_averages()
    ops = [e for e in events if not e.key.startswith(('stage:', 'ProfilerStep'))]
    total_cpu = sum(e.self_cpu_time_total for e in ops) or 1.0
    total_dev = sum(_device_time(e, 'self_cuda_time_total') for e in ops) or 1.0

    def row(e):
        r = dict(name=e.key, calls=e.count / iters,
                 self_cpu_ms=e.self_cpu_time_total / iters / 1e3,
                 self_cpu_pct=100.0 * e.self_cpu_time_total / total_cpu)
        if device == 'cuda':
            dev = _device_time(e, 'self_cuda_time_total')
            r.update(self_cuda_ms=dev / iters / 1e3, self_cuda_pct=100.0 * dev / total_dev)
        return r

    result = dict(iters=iters, wall_ms_per_iter=wall * 1e3,
                  top_cpu=[row(e) for e in sorted(ops, key=lambda e: -e.self_cpu_time_total)
                           [:TOP_OPS]])
    if device == 'cuda':
        result['top_cuda'] = [row(e) for e in sorted(
            ops, key=lambda e: -_device_time(e, 'self_cuda_time_total'))[:TOP_OPS]]
    by_key = {e.key: e for e in events}
    result['stages_forward'] = [
        dict(stage=s[len('stage:'):], cpu_ms=by_key[s].cpu_time_total / iters / 1e3,
             **({'cuda_ms': _device_time(by_key[s], 'cuda_time_total') / iters / 1e3}
                if device == 'cuda' else {}))
        for s in stages if s in by_key]
    return result


def format_profile(title: str, prof: Dict[str, Any]) -> str:
    """The profile as text: top ops per device, then forward time per stage."""
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
