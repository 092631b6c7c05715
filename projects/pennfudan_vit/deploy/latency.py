"""Batch-1 latency of ONNX Runtime vs PyTorch eager on the same images, in one run."""
import statistics
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch

from .image_ops import load_image
from .reference import TorchDetector
from .runtime import OnnxDetector


def _stats(seconds: List[float]) -> Dict[str, float]:
    ms = sorted(s * 1000 for s in seconds)
    return dict(median_ms=statistics.median(ms), mean_ms=statistics.fmean(ms),
                p90_ms=ms[min(len(ms) - 1, int(0.9 * len(ms)))], n=len(ms))


def _timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def compare_latency(onnx: Dict[str, OnnxDetector], torch_detector: TorchDetector,
                    images: Sequence[str], warmup: int = 2,
                    threads: Optional[int] = None) -> Dict[str, dict]:
    """Time each backend end to end (image file in, instances at image size out).

    Backends take turns on every image, so load from other processes hits them
    alike. ``onnx`` maps a name (e.g. ``onnx``, ``onnx-int8``) to a detector;
    PyTorch runs as ``tools/test.py`` does (mmdet pipeline, ``test_step``).
    """
    if threads:
        torch.set_num_threads(threads)
    runners = {'pytorch': lambda p: torch_detector(p)}
    runners.update({name: (lambda p, d=det: d(load_image(p))) for name, det in onnx.items()})
    for path in list(images)[:warmup]:
        for run in runners.values():
            run(path)
    times: Dict[str, List[float]] = {name: [] for name in runners}
    network: Dict[str, List[float]] = {name: [] for name in onnx}
    for path in images:
        for name, run in runners.items():
            times[name].append(_timed(lambda: run(path)))
        for name, det in onnx.items():
            tensor, hw, _ = det.preprocess(load_image(path))
            network[name].append(_timed(lambda: det.run_network(tensor, hw)))
    report = {name: _stats(t) for name, t in times.items()}
    for name in onnx:
        report[name]['graph_only_median_ms'] = _stats(network[name])['median_ms']
        paired = [a / b for a, b in zip(times['pytorch'], times[name])]
        report[name]['speedup_vs_pytorch'] = statistics.median(paired)
    report['threads'] = dict(torch=torch.get_num_threads(), onnxruntime=threads or 0)
    return report
