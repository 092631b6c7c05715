"""Timing, statistics, the JSON-safe record and its text report (no model, no data)."""
import math

import pytest

from pennfudan_vit.benchmark import finite_or_none, format_report, format_table, summarize
from pennfudan_vit.benchmark.record import record_warnings
from pennfudan_vit.benchmark.timing import max_rss_mib, memory, time_calls, timed_map


def test_summarize():
    s = summarize([4.0, 1.0, 3.0, 2.0], scale=10)
    assert (s['median'], s['q1'], s['q3'], s['iqr']) == (25.0, 17.5, 32.5, 15.0)
    assert (s['min'], s['max'], s['mean'], s['n']) == (10.0, 40.0, 25.0, 4)
    assert s['p90'] == pytest.approx(37.0)


def test_time_calls_warms_up_and_cycles():
    seen = []
    times = time_calls(seen.append, ['a', 'b', 'c'], warmup=2, iters=3, device='cpu')
    assert seen == ['a', 'b', 'c', 'a', 'b'] and len(times) == 3
    assert all(t >= 0 for t in times)
    results, seconds = timed_map(lambda x: 2 * x, [1, 2])
    assert results == [2, 4] and len(seconds) == 2


def test_memory_on_cpu():
    assert max_rss_mib() > 10
    assert memory('cpu')['cuda_max_allocated_mib'] is None


def test_finite_or_none_and_warnings():
    rec = finite_or_none(dict(a=math.nan, b=[1.0, math.inf], c=dict(d=2.0), e='x'))
    assert rec == dict(a=None, b=[1.0, None], c=dict(d=2.0), e='x')
    assert record_warnings(dict(train=dict(loss_last=None))) == ['non-finite training loss']
    busy = record_warnings(dict(load_avg_1m_start=3.0, cpu_count=2))
    assert len(busy) == 1 and 'busy' in busy[0]
    assert record_warnings(dict(train=dict(loss_last=1.0), load_avg_1m_start=0.1,
                                cpu_count=2)) == []


def _stats(median, n=3):
    return dict(median=median, q1=median * 0.9, q3=median * 1.1, p90=median * 1.2, n=n)


def test_format_table_and_report():
    infer = dict(precision='float32', latency_ms_batch1=_stats(120.0), sec_per_batch=_stats(0.3),
                 img_per_s=6.7, batch_size=2, detections_per_img=50.0,
                 data_s_per_batch=_stats(0.01, n=1), cuda_max_allocated_mib=None)
    train = dict(precision='float32', sec_per_iter=_stats(1.0), img_per_s=2.0,
                 data_s_per_batch=_stats(0.01), cuda_max_allocated_mib=12.0,
                 profile=dict(iters=1, wall_ms_per_iter=5.0, stages_forward=[],
                              top_cpu=[dict(name='aten::mm', self_cpu_ms=1.0, self_cpu_pct=50.0,
                                            calls=2.0)]))
    ref = dict(name='ref', backbone=dict(arch='deit-tiny'),
               infer=dict(latency_ms_batch1=_stats(400.0), img_per_s=2.0, batch_size=2,
                          detections_per_img=100.0),
               train=dict(sec_per_iter=_stats(2.0)))
    rec = dict(config_name='cfg', device='cpu', device_name='CPU', threads=2, input_size=[128, 96],
               batch_size=2, iters=3, warmup=1, infer=infer, train=train, reference=ref,
               speedup_vs_reference=dict(train=2.0, infer_latency=None), max_rss_mib=1000.0)
    table = format_table(rec)
    assert 'input 128x96 | batch 2 | 3 iters after 1 warm-up' in table
    assert 'infer ms/img (batch 1, float32)' in table and 'IQR 108.0-132.0' in table
    assert 'single run' in table  # the n=1 data time
    assert 'speed-up vs ref, train s/iter' in table and '2.00x  issue target >= 3x' in table
    assert 'n/a' in table and 'train CUDA 12 MiB' in table
    report = format_report(rec)
    assert report.index('train profile: 1 profiled iterations') < report.index('measure')
    assert 'aten::mm' in report and report.endswith(table.splitlines()[-1])
