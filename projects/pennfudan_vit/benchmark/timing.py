"""Timed calls, their summary statistics, and peak memory."""
import resource
import sys
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple


def sync(device: str) -> None:
    """Wait for queued CUDA work, so that a timer sees it (nothing on CPU)."""
    if device == 'cuda':
        import torch
        torch.cuda.synchronize()


def time_calls(fn: Callable[[Any], Any], items: Sequence[Any], warmup: int, iters: int,
               device: str) -> List[float]:
    """Seconds per ``fn(item)`` for ``iters`` calls after ``warmup``, cycling ``items``."""
    times = []
    for i in range(warmup + iters):
        item = items[i % len(items)]
        sync(device)
        start = time.perf_counter()
        fn(item)
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    return times


def timed_map(fn: Callable[[Any], Any],
              items: Sequence[Any]) -> Tuple[List[Any], List[float]]:
    """``[fn(item) ...]`` and the seconds each call took."""
    results, seconds = [], []
    for item in items:
        start = time.perf_counter()
        results.append(fn(item))
        seconds.append(time.perf_counter() - start)
    return results, seconds


def summarize(values: Sequence[float], scale: float = 1.0) -> Dict[str, float]:
    """Median, quartiles, IQR, p90, min, max, mean and count of ``values * scale``."""
    import numpy as np
    v = np.asarray(values, dtype=np.float64) * scale
    q1, med, q3, p90 = np.percentile(v, [25, 50, 75, 90])
    return dict(median=float(med), q1=float(q1), q3=float(q3), iqr=float(q3 - q1),
                p90=float(p90), min=float(v.min()), max=float(v.max()), mean=float(v.mean()),
                n=int(v.size))


def max_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == 'darwin' else rss / 2**10  # bytes on macOS


def reset_cuda_peak(device: str) -> None:
    """Start a new CUDA peak-memory measurement (nothing on CPU)."""
    if device == 'cuda':
        import torch
        torch.cuda.reset_peak_memory_stats()


def cuda_peak_mib(device: str) -> Optional[float]:
    """CUDA memory allocated at peak since :func:`reset_cuda_peak`, in MiB (None on CPU)."""
    if device != 'cuda':
        return None
    import torch
    return torch.cuda.max_memory_allocated() / 2**20


def memory(device: str) -> Dict[str, Optional[float]]:
    """``max_rss_mib`` and ``cuda_max_allocated_mib`` for a phase's record."""
    return dict(max_rss_mib=max_rss_mib(), cuda_max_allocated_mib=cuda_peak_mib(device))
