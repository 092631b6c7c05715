"""Static int8 export: calibrated on training images only, QDQ around the chosen operator
classes, detections near the float graph's; one-line errors for bad calibration input."""
import json

import numpy as np
import onnx
import pytest

from deploy_helpers import CPU_SIZE
from helpers import CPU_CONFIG, tool_main
from pennfudan_vit.deploy import quantize
from pennfudan_vit.deploy.compare import match_predictions
from pennfudan_vit.deploy.image_ops import load_image
from pennfudan_vit.deploy.runtime import OnnxDetector

export_onnx = tool_main('export_onnx')


def split_files(root, split):
    images = json.loads((root / 'annotations' / f'instances_{split}.json').read_text())
    return {str(root / im['file_name']) for im in images['images']}


def int8_layers(model):
    """``{name: op type}`` of the nodes whose weight is stored in int8 and whose data
    input is quantised too (QuantizeLinear -> DequantizeLinear in front of both)."""
    weights = {i.name for i in model.graph.initializer}
    dq = {n.output[0]: n.input[0] for n in model.graph.node if n.op_type == 'DequantizeLinear'}
    quantized = {n.output[0] for n in model.graph.node if n.op_type == 'QuantizeLinear'}
    return {n.name: n.op_type for n in model.graph.node
            if len(n.input) > 1 and dq.get(n.input[1]) in weights
            and dq.get(n.input[0]) in quantized}


def test_int8_reads_only_training_images_and_tracks_the_float_graph(
        cpu_checkpoint, cpu_onnx, coco_data, real_images, tmp_path, monkeypatch, capsys):
    read = []
    monkeypatch.setattr(quantize, 'load_image', lambda path: read.append(path) or
                        load_image(path))
    out, record = tmp_path / 'int8.onnx', tmp_path / 'int8.json'
    export_onnx([CPU_CONFIG, str(cpu_checkpoint), '--out', str(out), '--input-size',
                 *map(str, CPU_SIZE), '--int8', '--calib-data', str(coco_data),
                 '--calib-images', '3', '--record', str(record)])
    train = split_files(coco_data, 'train')
    assert len(read) == 3 and set(read) <= train, read
    assert not set(read) & (split_files(coco_data, 'test') | split_files(coco_data, 'val'))
    rec = json.loads(record.read_text())
    assert rec['metadata']['quantization'] == 'int8-static'
    assert rec['quantization']['calibration_images'] == read
    model = onnx.load(str(out))
    quantized = int8_layers(model)
    assert set(quantized.values()) == set(quantize.STATIC_OPS), quantized
    assert not [n for n in quantized for k in quantize.FLOAT_LAYERS if k in n], quantized
    attention = [n.name for n in model.graph.node if n.name.endswith('attn/MatMul')]
    assert attention and not set(attention) & set(quantized)
    assert 'quantization int8-static' in capsys.readouterr().out
    fp32, int8 = OnnxDetector(str(cpu_onnx)), OnnxDetector(str(out))
    assert int8.meta.quantization == 'int8-static'
    for path in real_images:
        image = load_image(str(path))
        stats = match_predictions(int8(image), fp32(image))
        # random weights: every proposal is a detection with a near-tied score, so int8
        # rounding swaps some of them for others
        assert stats['matched'] >= 0.7 * stats['n_ref'] and stats['mean_box_iou'] > 0.8, \
            stats
    # the features the heads see: ranges calibrated on blank images put them about three
    # times further from the float graph's than the training images do
    tensor, image_hw, _ = fp32.preprocess(load_image(str(real_images[0])))
    want, got = (backbone_output(path, tensor, image_hw) for path in (cpu_onnx, out))
    assert np.abs(got - want).mean() < 0.04 * np.abs(want).mean()


def backbone_output(path, tensor, image_hw):
    """The backbone's output tensor of the exported graph at ``path``, made a graph output."""
    import onnxruntime as ort
    model = onnx.load(str(path))
    name = [n for n in model.graph.node if n.name.startswith('/backbone/')][-1].output[0]
    model.graph.output.append(onnx.helper.make_tensor_value_info(name, onnx.TensorProto.FLOAT,
                                                                 None))
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=['CPUExecutionProvider'])
    return session.run([name], {'image': tensor, 'image_hw': image_hw})[0]


@pytest.mark.parametrize('extra,expected', [
    (['--int8', '--calib-images', '0'], '--calib-images 0: give at least 1'),
    (['--int8', '--calib-images', '100000'], 'the training split has only'),
    (['--int8', '--calib-data', 'absent_root'], '--calib-data absent_root is not a folder'),
    (['--int8', '--calib-data', '.'], 'annotations/instances_train.json does not exist'),
    (['--calib-images', '8'], '--calib-images calibrates --int8 static'),
    (['--int8', 'dynamic', '--calib-data', '.'], '--calib-data calibrates --int8 static'),
    (['--int8', '--record', 'absent/r.json'], '--record absent/r.json: folder absent does not'),
])
def test_bad_int8_flags_are_one_line_before_export(
        extra, expected, cpu_checkpoint, coco_data, tmp_path, monkeypatch, capsys):
    from pennfudan_vit.deploy import export
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv('PENNFUDAN_DATA', str(coco_data))
    monkeypatch.setattr(export, 'load_detector', lambda *a, **k: pytest.fail('export began'))
    with pytest.raises(SystemExit) as exit_:
        export_onnx([CPU_CONFIG, str(cpu_checkpoint), '--out', 'm.onnx', *extra])
    errors = capsys.readouterr().err.strip().splitlines()
    assert exit_.value.code == 2 and len(errors) == 1 and expected in errors[0], errors
    assert not (tmp_path / 'm.onnx').exists()
