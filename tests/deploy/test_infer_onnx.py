"""tools/infer_onnx.py on real images: the PyTorch model's detections, in the formats of
tools/infer.py and tools/test.py, and one-line errors for bad files."""
import json

import pytest

from deploy_helpers import assert_same_detections
from helpers import tool_main
from pennfudan_vit.deploy.image_ops import load_image

infer_onnx = tool_main('infer_onnx')


def test_images_give_the_pytorch_detections(cpu_onnx, cpu_reference, real_images, image_folder,
                                            tmp_path, capsys):
    out = tmp_path / 'out'
    with pytest.raises(SystemExit) as exit_:
        infer_onnx([str(cpu_onnx), str(image_folder), '--out-dir', str(out), '--score-thr',
                    '0.3'])
    assert exit_.value.code == 1
    captured = capsys.readouterr()
    assert captured.err.strip().splitlines() == [
        f'[infer_onnx] error: 1 of 3 files could not be read: {image_folder / "bad.png"}']
    assert f'skipped {image_folder / "bad.png"}' in captured.out
    assert not (out / 'preds' / 'bad.json').exists()
    for path in real_images:
        assert (out / 'vis' / path.name).read_bytes()[:4] == b'\x89PNG'
        assert_same_detections(out / 'preds' / f'{path.stem}.json',
                               cpu_reference(load_image(str(path))), 0.3)


def test_coco_results_match_pytorch(cpu_onnx, cpu_reference, real_images, tmp_path, capsys):
    from pennfudan_vit.deploy.outputs import coco_results
    gt = dict(images=[dict(id=i + 7, file_name=p.name, height=1, width=1)
                      for i, p in enumerate(real_images)],
              categories=[dict(id=1, name='pedestrian')], annotations=[])
    (tmp_path / 'gt.json').write_text(json.dumps(gt))
    ref_bbox = []  # the PyTorch model's results, written as CocoMetric does
    for i, path in enumerate(real_images):
        ref_bbox += coco_results(i + 7, cpu_reference(load_image(str(path))), [1])[0]
    (tmp_path / 'torch.bbox.json').write_text(json.dumps(ref_bbox))
    infer_onnx([str(cpu_onnx), '--coco', str(tmp_path / 'gt.json'), '--images',
                str(real_images[0].parent), '--out-dir', str(tmp_path), '--prefix', 'onnx',
                '--compare', str(tmp_path / 'torch')])
    bbox = json.loads((tmp_path / 'onnx.bbox.json').read_text())
    segm = json.loads((tmp_path / 'onnx.segm.json').read_text())
    assert len(bbox) == len(segm) == len(ref_bbox)
    assert {d['category_id'] for d in bbox} == {1} and {d['image_id'] for d in bbox} == {7, 8}
    line = [ln for ln in capsys.readouterr().out.splitlines() if ' vs ' in ln][0]
    stats = dict(kv.rsplit(' ', 1) for kv in line.split(': ', 1)[1].split(', '))
    assert float(stats['matched']) == float(stats['n_ref']) == len(ref_bbox), line
    assert float(stats['min_box_iou']) > 0.99, line


@pytest.mark.parametrize('content', [b'', b'not a protobuf at all' * 10, 'foreign'])
def test_bad_onnx_file_is_one_line(tmp_path, content, capsys):
    path = tmp_path / 'model.onnx'
    if content == 'foreign':  # a valid ONNX file that is not one of our exports
        import onnx
        from onnx import TensorProto, helper
        node = helper.make_node('Identity', ['x'], ['y'])
        graph = helper.make_graph([node], 'g', [helper.make_tensor_value_info(
            'x', TensorProto.FLOAT, [1])], [helper.make_tensor_value_info(
                'y', TensorProto.FLOAT, [1])])
        onnx.save(helper.make_model(graph), path)
    else:
        path.write_bytes(content)
    (tmp_path / 'img.png').write_bytes(b'')
    with pytest.raises(SystemExit) as exit_:
        infer_onnx([str(path), str(tmp_path / 'img.png'), '--out-dir', str(tmp_path / 'out')])
    assert exit_.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith('error: ') and 'model.onnx' in lines[0]
