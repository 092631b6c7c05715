"""The one latency harness: timed calls, their statistics, peak memory."""
import resource
import sys
import time
from typing import Any, Callable, Dict, List, Sequence

import numpy as np
import torch


def time_calls(fn: Callable[[Any], Any], items: Sequence[Any], warmup: int = 0,
               iters: int = 0, device: str = 'cpu') -> List[float]:
    """Seconds per ``fn(item)``, ``iters`` calls (default: one per item) after ``warmup``."""
    times, sync = [], torch.cuda.synchronize if device.startswith('cuda') else lambda: None
    for i in range(warmup + (iters or len(items))):   # CUDA work is waited for, to be timed
        sync()
        start = time.perf_counter()
        fn(items[i % len(items)])
        sync()
        times.append(time.perf_counter() - start)
    return times[warmup:]


def summarize(values: Sequence[float], scale: float = 1.0) -> Dict[str, float]:
    """Median, quartiles, IQR, p90 (numpy's percentiles), min, max, mean, n of values*scale."""
    v = np.asarray(values, dtype=np.float64) * scale
    q1, med, q3, p90 = (float(q) for q in np.percentile(v, [25, 50, 75, 90]))
    return dict(median=med, q1=q1, q3=q3, iqr=q3 - q1, p90=p90, min=float(v.min()),
                max=float(v.max()), mean=float(v.mean()), n=int(v.size))


def memory(device: str, reset: bool = False) -> Dict[str, Any]:
    """Peak RSS of the process and, on CUDA, peak allocated since ``reset``, in MiB."""
    cuda = device.startswith('cuda')
    if reset and cuda:
        torch.cuda.reset_peak_memory_stats()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # bytes on macOS, else KiB
    return dict(max_rss_mib=rss / 2**(20 if sys.platform == 'darwin' else 10),
                cuda_max_allocated_mib=torch.cuda.max_memory_allocated() / 2**20 if cuda
                else None)
