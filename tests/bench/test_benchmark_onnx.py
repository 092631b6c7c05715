"""tools/benchmark_onnx.py in this process: PyTorch and two exports (float and int8) timed
on the same real images with the one statistics definition, the CPU and the load in the
record; bad input is one line."""
import json

import pytest

from helpers import CPU_CONFIG, tool_main

pytest.importorskip('onnxruntime')


@pytest.fixture(scope='module')
def exports(tmp_path_factory, cpu_checkpoint):
    """A float export of ``cpu_checkpoint`` at 128 px and its dynamic int8 version."""
    from pennfudan_vit.config import load_config
    from pennfudan_vit.deploy.export import export_model, quantize
    from pennfudan_vit.detector import load_detector
    cfg = load_config(CPU_CONFIG)
    model, _ = load_detector(cfg, str(cpu_checkpoint))
    data, meta, _ = export_model(model, cfg, CPU_CONFIG, (128, 128), verify=False)
    folder = tmp_path_factory.mktemp('exports')
    (folder / 'fp32.onnx').write_bytes(data)
    (folder / 'int8.onnx').write_bytes(quantize(data, meta, 'dynamic')[0])
    return folder / 'fp32.onnx', folder / 'int8.onnx'


def test_pytorch_and_both_exports_on_real_images(tmp_path, coco_data, cpu_checkpoint, exports,
                                                 capsys, monkeypatch):
    monkeypatch.setattr('pennfudan_bench.step_bench.cpu_info',   # a CPU without int8 units
                        lambda: dict(model='x', cpus=2, bf16=[], int8=[]))
    out = tmp_path / 'latency.json'
    tool_main('benchmark_onnx')([CPU_CONFIG, str(coco_data / 'PNGImages'), '--checkpoint',
                                 str(cpu_checkpoint), '--onnx', *map(str, exports),
                                 '--n', '2', '--threads', '1', '--out', str(out)])
    report = json.loads(out.read_text())
    assert (report['images'], report['input_size'], report['threads']) == (2, [128, 128], 1)
    assert report['onnx'] == {'fp32': dict(file=str(exports[0]), quantization='none'),
                              'int8': dict(file=str(exports[1]), quantization='int8-dynamic')}
    for name in ('pytorch', 'fp32', 'int8'):
        assert report[name]['latency_ms']['n'] == 2 and report[name]['latency_ms']['p90'] > 0
    for name, other in (('fp32', 'int8'), ('int8', 'fp32')):
        assert report[name]['graph_only_ms']['median'] > 0
        assert report[name]['speedup_vs_pytorch'] > 0
        assert set(report[name]['speedup_vs_onnx']) == {other}
        assert report[name]['speedup_vs_onnx'][other]['graph_only'] > 0
    env = report['environment']
    assert env['cpu']['model'] and env['versions']['onnxruntime'] and env['threads'] == 1
    assert env['load_avg_1m_start'] >= 0 and env['load_avg_1m_end'] >= 0
    assert 'vs fp32' in capsys.readouterr().out
    [note] = report['notes']   # the int8 file's timing is flagged, the float one's is not
    assert note.startswith('int8: this CPU has no int8 units')


def test_bad_input_is_one_line(tmp_path, exports, user_error):
    main = tool_main('benchmark_onnx')
    user_error(main, [CPU_CONFIG, tmp_path, '--onnx', exports[0], '--n', '0'],
               '--n must be >= 1')
    user_error(main, [CPU_CONFIG, tmp_path / 'none', '--onnx', exports[0]], 'none')
    images = exports[0].parent
    (images / 'a.png').write_bytes(b'')
    user_error(main, [CPU_CONFIG, images, '--onnx', exports[0], exports[0]],
               'give each file its own name')
    other = CPU_CONFIG.replace('deit-tiny_mrcnn_pennfudan_cpu', 'vit_mrcnn_pennfudan')
    user_error(main, [other, images, '--onnx', exports[0]],
               'was exported from deit-tiny_mrcnn_pennfudan_cpu.py, not vit_mrcnn_pennfudan.py')
