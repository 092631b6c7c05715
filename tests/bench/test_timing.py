"""The one latency harness: timed calls, numpy-percentile statistics, peak memory; and
the ONNX-vs-PyTorch comparison built on it (stand-in detectors)."""
import numpy as np
import pytest

from pennfudan_bench import onnx_latency
from pennfudan_bench.timing import memory, summarize, time_calls


def test_summarize_uses_numpy_percentiles():
    s = summarize([4.0, 1.0, 3.0, 2.0], scale=10)
    assert (s['median'], s['q1'], s['q3'], s['iqr']) == (25.0, 17.5, 32.5, 15.0)
    assert (s['min'], s['max'], s['mean'], s['n']) == (10.0, 40.0, 25.0, 4)
    values = list(np.random.default_rng(0).random(11))
    assert summarize(values)['p90'] == pytest.approx(np.percentile(values, 90))


def test_time_calls_warms_up_and_cycles():
    seen = []
    times = time_calls(seen.append, ['a', 'b', 'c'], warmup=2, iters=3)
    assert seen == ['a', 'b', 'c', 'a', 'b'] and len(times) == 3 and min(times) >= 0
    assert len(time_calls(seen.append, [1, 2])) == 2   # default: each item once


def test_memory_on_cpu():
    mem = memory('cpu', reset=True)
    assert mem['max_rss_mib'] > 10 and mem['cuda_max_allocated_mib'] is None


class FakeOnnx:
    """Stands in for OnnxDetector: whole calls, and the graph alone."""

    def __init__(self):
        self.calls = 0

    def __call__(self, image):
        self.calls += 1

    def preprocess(self, image):
        return image, image.shape[:2], (1.0, 1.0)

    def run_network(self, tensor, hw):
        return {}


def test_compare_latency_takes_turns_and_shares_the_statistics(monkeypatch):
    monkeypatch.setattr(onnx_latency, 'load_image', lambda path: np.zeros((4, 4, 3), np.uint8))
    pytorch_calls, onnx = [], FakeOnnx()
    report = onnx_latency.compare_latency(
        dict(pytorch=lambda image: pytorch_calls.append(1), onnx=onnx), ['a', 'b', 'c'],
        warmup=1)
    assert len(pytorch_calls) == onnx.calls == 4    # one warm-up image, then three timed
    assert set(report) == {'pytorch', 'onnx'} and 'graph_only_ms' not in report['pytorch']
    for stats in (report['pytorch']['latency_ms'], report['onnx']['graph_only_ms']):
        assert set(stats) == set(summarize([1.0])) and stats['n'] == 3
    assert report['onnx']['speedup_vs_pytorch'] > 0
