"""FLOP counting and the matmul yardstick: exact counts on known layers, and
tools/benchmark.py --flops filling the record for both models."""
import json

import pytest
import torch

from helpers import CPU_CONFIG, run_tool
from pennfudan_vit.benchmark.utilization import (add_utilization, count_flops, matmul_peak,
                                                 utilization)


def test_linear_forward_and_backward_flops_are_exact():
    layer = torch.nn.Linear(8, 4, bias=False)
    x = torch.randn(3, 8)
    assert count_flops(lambda: layer(x))['gflops'] * 1e9 == pytest.approx(2 * 3 * 8 * 4)
    # backward: the weight's gradient, and the input's when it needs one
    assert count_flops(lambda: layer(x).sum().backward())['gflops'] * 1e9 == pytest.approx(
        2 * 2 * 3 * 8 * 4)
    x.requires_grad_()
    assert count_flops(lambda: layer(x).sum().backward())['gflops'] * 1e9 == pytest.approx(
        3 * 2 * 3 * 8 * 4)


def test_fused_attention_is_counted_forward_and_backward():
    q = torch.randn(1, 2, 16, 8, requires_grad=True)
    attention = torch.nn.functional.scaled_dot_product_attention
    flops = count_flops(lambda: attention(q, q, q))
    assert flops['gflops'] * 1e9 == pytest.approx(2 * (2 * 2 * 16 * 16 * 8))   # QK^T and AV
    assert 'scaled_dot_product' in ' '.join(flops['gflops_by_op'])
    both = count_flops(lambda: attention(q, q, q).sum().backward())
    assert both['gflops'] == pytest.approx(3.5 * flops['gflops'])  # backward: 2.5x forward


def test_matmul_peak_and_utilization():
    peak = matmul_peak(n=256, reps=2)
    assert peak['gflops_s'] > 0 and peak['n'] == 256 and peak['threads'] >= 1
    assert utilization(10.0, 2.0, 20.0) == dict(achieved_gflops_s=5.0,
                                                fraction_of_matmul_peak=0.25)
    record = dict(train=dict(flops_per_iter=dict(gflops=4.0), sec_per_iter=dict(median=2.0)),
                  reference=dict(infer=dict(flops_batch1=dict(gflops=1.0),
                                            latency_ms_batch1=dict(median=500.0))))
    add_utilization(record, 8.0)
    assert record['train']['flops_per_iter']['fraction_of_matmul_peak'] == 0.25
    assert record['reference']['infer']['flops_batch1']['achieved_gflops_s'] == 2.0


def test_benchmark_flops_for_both_models(coco_data):
    proc = run_tool('tools/benchmark.py', CPU_CONFIG, '--data-root', coco_data, '--flops',
                    '--reference', 'torchvision', '--input-size', '128', '128', '--iters', '1',
                    '--warmup', '0', '--batch-size', '2', '--threads', '1')
    rec = json.loads(proc.stdout.strip().splitlines()[-1])
    assert rec['matmul_peak']['gflops_s'] > 0
    for part in (rec, rec['reference']):
        infer, train = part['infer']['flops_batch1'], part['train']['flops_per_iter']
        assert 0 < infer['gflops'] < train['gflops']
        for f in (infer, train):
            assert sum(f['gflops_by_op'].values()) <= f['gflops'] * (1 + 1e-9)
        for f in (infer, train):
            assert 0 < f['fraction_of_matmul_peak'] < 2
            assert f['achieved_gflops_s'] == pytest.approx(
                f['fraction_of_matmul_peak'] * rec['matmul_peak']['gflops_s'])
    assert 'convolution' in ' '.join(rec['train']['flops_per_iter']['gflops_by_op'])
    assert 'of peak' in proc.stdout
