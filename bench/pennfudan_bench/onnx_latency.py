"""Batch-1 latency of ONNX Runtime against PyTorch eager on the same images, in one run."""
import statistics
from typing import Any, Callable, Dict, Sequence

from pennfudan_vit.deploy.image_ops import load_image

from .timing import summarize, time_calls


def _ratio(slow: Sequence[float], fast: Sequence[float]) -> float:
    """Median of per-image ratios ``slow / fast``: the speed-up of ``fast``."""
    return statistics.median(a / b for a, b in zip(slow, fast))


def compare_latency(detectors: Dict[str, Callable], images: Sequence[str],
                    warmup: int = 2) -> Dict[str, Any]:
    """ms per image file of each detector (``pytorch``: a ``TorchDetector``, others
    ``OnnxDetector``s, also by the graph alone), taking turns on every image so that load
    hits them alike; a speed-up is the median of per-image ratios: over ``pytorch``
    (end to end), and over each other ONNX detector (end to end and graph alone)."""
    for path in images[:warmup]:
        for detect in detectors.values():
            detect(load_image(path))
    times: Dict[str, list] = {name: [] for name in detectors}
    graph: Dict[str, list] = {name: [] for name in detectors if name != 'pytorch'}
    for path in images:
        for name, detect in detectors.items():
            times[name] += time_calls(lambda p: detect(load_image(p)), [path])
            if name in graph:
                tensor, hw, _ = detect.preprocess(load_image(path))
                graph[name] += time_calls(lambda t: detect.run_network(t, hw), [tensor])
    report: Dict[str, Any] = {name: dict(latency_ms=summarize(t, 1e3))
                              for name, t in times.items()}
    for name, t in graph.items():
        report[name].update(graph_only_ms=summarize(t, 1e3),
                            speedup_vs_pytorch=_ratio(times['pytorch'], times[name]))
        others = [o for o in graph if o != name]
        if others:
            report[name]['speedup_vs_onnx'] = {o: dict(
                end_to_end=_ratio(times[o], times[name]), graph_only=_ratio(graph[o], t))
                for o in others}
    return report

