"""Inference and train-step measurement with stand-in models, and --profile by op class."""
import pytest
import torch

from pennfudan_bench.phases import Settings, format_profile, measure_infer, measure_train


def test_measure_infer_in_inference_mode_and_autocast():
    calls = []

    def predict(data):
        calls.append((torch.is_inference_mode_enabled(), torch.is_autocast_enabled('cpu')))
        return [3] * len(data)

    s = Settings(device='cpu', batch_size=2, iters=3, warmup=1, amp=True)
    r = measure_infer(predict, [['a']], [['b', 'c']], s)
    assert calls == [(True, True)] * 8
    assert r['latency_ms_batch1']['n'] == 3 and r['sec_per_batch']['n'] == 3
    assert r['img_per_s'] == pytest.approx(2 / r['sec_per_batch']['median'])
    assert r['detections_per_img'] == 3 and 'profile' not in r and r['max_rss_mib'] > 0


def test_measure_train_profiles_by_op_class():
    model = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.Flatten(),
                                torch.nn.Linear(8 * 14 * 14, 4))
    losses = iter(range(10, 0, -1))

    def step(x):
        model(x).sum().backward()
        return float(next(losses))

    s = Settings(device='cpu', batch_size=4, iters=2, warmup=1, profile=True)
    r = measure_train(step, [torch.rand(4, 3, 16, 16)], s)
    assert (r['loss_first'], r['loss_last']) == (10.0, 6.0)   # 3 timed, then 2 profiled
    lo, hi = r['img_per_s_range']
    assert r['sec_per_iter']['n'] == 2 and lo <= r['img_per_s'] <= hi
    prof = r['profile']
    assert prof['iters'] == 2 and sum(prof['share_pct_by_class'].values()) == pytest.approx(100)
    assert {'convolution', 'matmul'} <= set(prof['share_pct_by_class'])
    assert 0 < len(prof['top_ops']) <= 10 and all(op['self_ms'] >= 0 for op in prof['top_ops'])
    text = format_profile('train profile', prof)
    assert 'train profile: 2 profiled iterations' in text and 'by op class: ' in text
