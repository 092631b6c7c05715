"""tools/benchmark_onnx.py in this process: PyTorch, ONNX Runtime and its int8 export timed
on the same real images with the one statistics definition; bad input is one line."""
import json

import pytest

from helpers import CPU_CONFIG, tool_main

pytest.importorskip('onnxruntime')


def test_pytorch_and_both_exports_on_real_images(tmp_path, coco_data, cpu_checkpoint, capsys):
    out = tmp_path / 'latency.json'
    tool_main('benchmark_onnx')([CPU_CONFIG, str(coco_data / 'PNGImages'), '--checkpoint',
                                 str(cpu_checkpoint), '--n', '2', '--input-size', '128', '128',
                                 '--int8', '--threads', '1', '--out', str(out)])
    report = json.loads(out.read_text())
    assert (report['images'], report['input_size'], report['threads']) == (
        2, [128, 128], 1)
    for name in ('pytorch', 'onnx', 'onnx-int8'):
        assert report[name]['latency_ms']['n'] == 2 and report[name]['latency_ms']['p90'] > 0
    for name in ('onnx', 'onnx-int8'):
        assert report[name]['graph_only_ms']['median'] > 0
        assert report[name]['speedup_vs_pytorch'] > 0
    assert 'faster than PyTorch' in capsys.readouterr().out


def test_bad_input_is_one_line(tmp_path, user_error):
    main = tool_main('benchmark_onnx')
    user_error(main, [CPU_CONFIG, tmp_path, '--n', '0'], '--n must be >= 1')
    user_error(main, [CPU_CONFIG, tmp_path / 'none'], 'none')
