"""Inference and train-step measurement with stand-in backends and steps."""
from contextlib import contextmanager

import pytest

from pennfudan_vit.benchmark import InferBackend, Settings, measure_infer, measure_train
from pennfudan_vit.benchmark.phases import INFER_BACKENDS, POOL_MAX, PROFILE_ITERS


def test_settings():
    s = Settings(device='cpu', batch_size=2, iters=30, warmup=5)
    assert s.pool_size == POOL_MAX and s.profile_iters == PROFILE_ITERS
    s = Settings(device='cpu', batch_size=2, iters=2, warmup=1)
    assert (s.pool_size, s.profile_iters) == (3, 2)
    assert set(INFER_BACKENDS) == {'pytorch'}


def test_measure_infer():
    entered = []

    @contextmanager
    def context():
        entered.append(True)
        yield

    calls = []
    backend = InferBackend(predict=lambda data: calls.append(data) or [3] * len(data),
                           precision='float32', context=context)
    s = Settings(device='cpu', batch_size=2, iters=3, warmup=1, profile=True)
    r = measure_infer(backend, [['a']], [['b', 'c']], s)
    assert entered == [True] and len(calls) == 8
    assert r['latency_ms_batch1']['n'] == 3 and r['sec_per_batch']['n'] == 3
    assert r['img_per_s'] == pytest.approx(2 / r['sec_per_batch']['median'])
    assert r['detections_per_img'] == 3 and r['batch_size'] == 2
    assert 'profile' not in r  # nothing to profile without a model


def test_measure_train():
    losses = iter([5.0, 4.0, 3.0])
    s = Settings(device='cpu', batch_size=4, iters=2, warmup=1)
    r = measure_train(lambda data: next(losses), ['x'], s)
    assert (r['loss_first'], r['loss_last']) == (5.0, 3.0)
    assert r['sec_per_iter']['n'] == 2
    lo, hi = r['img_per_s_range']
    assert lo <= r['img_per_s'] <= hi
