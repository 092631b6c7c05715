"""Benchmarking a config: timing, profiling, precision variants, the torchvision reference.

``tools/benchmark.py`` is the command line over :func:`run_benchmark`.
"""
from .phases import (INFER_BACKENDS, InferBackend, Settings, bench_infer, bench_loader,
                     bench_train, measure_infer, measure_train, pytorch_backend)
from .prepare import build_model, measured_input_size, prepare_config, resolve_device
from .record import finite_or_none, record_warnings, run_benchmark
from .report import format_report, format_table
from .timing import summarize, time_calls

__all__ = [
    'INFER_BACKENDS', 'InferBackend', 'Settings', 'bench_infer', 'bench_loader', 'bench_train',
    'build_model', 'finite_or_none', 'format_report', 'format_table', 'measure_infer',
    'measure_train', 'measured_input_size', 'prepare_config', 'pytorch_backend',
    'record_warnings', 'resolve_device', 'run_benchmark', 'summarize', 'time_calls'
]
