"""FLOPs of a step (PyTorch's own counter) and the machine's dense fp32 matmul throughput.

``torch.utils.flop_counter.FlopCounterMode`` counts multiply and add as two FLOPs in
matmuls, convolutions and fused attention, forward and backward; RoIAlign, NMS and
elementwise work are not counted. The ratio of achieved FLOP/s to the measured
matmul rate is therefore the share of the machine's dense-math limit a step reaches.
"""
import time
from typing import Any, Callable, Dict

import torch

from .timing import sync


def _cpu_attention_formulas() -> Dict[Any, Callable]:
    """FlopCounterMode knows the CUDA fused-attention kernels; the CPU one is counted alike."""
    from torch.utils.flop_counter import sdpa_backward_flop_count, sdpa_flop_count
    aten = torch.ops.aten

    def forward(query, key, value, *args, out_shape=None, **kwargs) -> int:
        return sdpa_flop_count(query, key, value)

    def backward(grad_out, query, key, value, *args, out_shape=None, **kwargs) -> int:
        return sdpa_backward_flop_count(grad_out, query, key, value)

    return {aten._scaled_dot_product_flash_attention_for_cpu: forward,
            aten._scaled_dot_product_flash_attention_for_cpu_backward: backward}


def count_flops(fn: Callable[[], Any], top: int = 8) -> Dict[str, Any]:
    """FLOPs of one ``fn()`` call (forward and, if it runs one, backward), with the top ops."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False, custom_mapping=_cpu_attention_formulas())
    with counter:
        fn()
    by_op = {str(op).split('.')[-1]: int(n)
             for op, n in counter.get_flop_counts().get('Global', {}).items()}
    ranked = dict(sorted(by_op.items(), key=lambda kv: -kv[1])[:top])
    return dict(gflops=counter.get_total_flops() / 1e9,
                gflops_by_op={k: v / 1e9 for k, v in ranked.items()})


def matmul_peak(device: str = 'cpu', n: int = 2048, reps: int = 10) -> Dict[str, Any]:
    """Dense fp32 ``n x n`` matmul GFLOP/s on ``device`` at the current thread count
    (best of ``reps`` after two warm-up calls): the yardstick of :func:`utilization`."""
    a = torch.randn(n, n, device=device)
    b = torch.randn(n, n, device=device)
    best = float('inf')
    for i in range(reps + 2):
        sync(device)
        start = time.perf_counter()
        torch.mm(a, b)
        sync(device)
        if i >= 2:
            best = min(best, time.perf_counter() - start)
    return dict(n=n, reps=reps, gflops_s=2 * n ** 3 / best / 1e9,
                threads=torch.get_num_threads())


def utilization(gflops: float, seconds: float, peak_gflops_s: float) -> Dict[str, float]:
    """Achieved GFLOP/s of ``gflops`` done in ``seconds``, and its share of the peak."""
    achieved = gflops / seconds
    return dict(achieved_gflops_s=achieved, fraction_of_matmul_peak=achieved / peak_gflops_s)


def add_utilization(record: Dict[str, Any], peak_gflops_s: float) -> None:
    """Add achieved GFLOP/s and share of the peak to every phase that counted FLOPs."""
    phases = [record.get('infer'), record.get('train')]
    phases += [record.get('reference', {}).get(p) for p in ('infer', 'train')]
    for phase in filter(None, phases):
        if 'flops_batch1' in phase:
            phase['flops_batch1'].update(utilization(
                phase['flops_batch1']['gflops'], phase['latency_ms_batch1']['median'] / 1e3,
                peak_gflops_s))
        if 'flops_per_iter' in phase:
            phase['flops_per_iter'].update(utilization(
                phase['flops_per_iter']['gflops'], phase['sec_per_iter']['median'],
                peak_gflops_s))
