"""Metrics: the config's test evaluator, and tools/eval_results.py on COCO result files."""
import json

import numpy as np
import pytest

from helpers import CPU_CONFIG, tool_main

eval_results = tool_main('eval_results')


def run(capsys, *args):
    """(exit status, stdout, stderr) of tools/eval_results.py on ``args``."""
    try:
        code = eval_results([str(a) for a in args])
    except SystemExit as exit_:
        code = exit_.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --------------------------------------------------------------------------- #
# The config's test evaluator (mmdet CocoMetric) on the real Penn-Fudan
# --------------------------------------------------------------------------- #
def _evaluate(coco_data, shift=0):
    import torch
    from mmdet.registry import METRICS
    from mmengine.config import Config
    from pycocotools.coco import COCO

    from pennfudan_vit.config import set_data_root
    cfg = Config.fromfile(CPU_CONFIG)
    set_data_root(cfg, str(coco_data))
    metric = METRICS.build(cfg.test_evaluator)
    metric.dataset_meta = dict(classes=('pedestrian', ))
    gt = COCO(cfg.test_evaluator.ann_file)
    samples = []
    for img_id in gt.getImgIds():
        info = gt.loadImgs(img_id)[0]
        anns = gt.loadAnns(gt.getAnnIds(imgIds=img_id))
        boxes = np.array([[a['bbox'][0], a['bbox'][1], a['bbox'][0] + a['bbox'][2],
                           a['bbox'][1] + a['bbox'][3]] for a in anns], np.float32)
        masks = np.stack([gt.annToMask(a) for a in anns]).astype(bool)
        boxes[:, [0, 2]] += shift
        masks = np.roll(masks, shift, axis=2)
        samples.append(dict(
            img_id=img_id, ori_shape=(info['height'], info['width']),
            pred_instances=dict(bboxes=torch.from_numpy(boxes),
                                scores=torch.ones(len(anns)),
                                labels=torch.zeros(len(anns), dtype=torch.long),
                                masks=torch.from_numpy(masks))))
    metric.process({}, samples)
    return metric.evaluate(len(samples))


def test_ground_truth_scores_one(coco_data):
    res = _evaluate(coco_data)
    assert res['coco/bbox_mAP'] == pytest.approx(1.0)
    assert res['coco/segm_mAP'] == pytest.approx(1.0)


def test_shifted_ground_truth_scores_lower(coco_data):
    res = _evaluate(coco_data, shift=12)
    assert res['coco/bbox_mAP'] < 0.9
    assert res['coco/segm_mAP'] < 0.9
    assert res['coco/bbox_mAP_50'] > res['coco/bbox_mAP']


# --------------------------------------------------------------------------- #
# tools/eval_results.py
# --------------------------------------------------------------------------- #
def _poly(box):
    x, y, w, h = box
    return [[x, y, x + w, y, x + w, y + h, x, y + h]]


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """8 images of 1-2 people; run: every person found, some shifted, 2 false positives."""
    rng = np.random.default_rng(0)
    images, anns, run, base = [], [], [], []
    for img_id in range(1, 9):
        images.append({'id': img_id, 'file_name': f'{img_id}.png', 'height': 80, 'width': 80})
        for k in range(1 + img_id % 2):
            box = [5.0 + 35 * k, 5.0, 20.0, 50.0]
            anns.append({'id': len(anns) + 1, 'image_id': img_id, 'category_id': 1,
                         'bbox': box, 'area': 1000.0, 'iscrowd': 0,
                         'segmentation': _poly(box)})
            dx = float(rng.integers(0, 6))
            for dets, off in ((run, dx), (base, dx + 6)):  # the baseline is worse
                pred = [box[0] + off, box[1], box[2], box[3]]
                dets.append({'image_id': img_id, 'category_id': 1, 'bbox': pred,
                             'segmentation': _poly(pred), 'score': float(rng.uniform(.3, 1))})
    for img_id, score in ((2, 0.95), (5, 0.2)):
        fp = [50.0, 60.0, 15.0, 15.0]
        for dets in (run, base):
            dets.append({'image_id': img_id, 'category_id': 1, 'bbox': fp,
                         'segmentation': _poly(fp), 'score': score})
    d = tmp_path_factory.mktemp('eval_results')
    (d / 'gt.json').write_text(json.dumps(
        {'images': images, 'annotations': anns, 'categories': [{'id': 1, 'name': 'person'}]}))
    for name, dets in (('run', run), ('base', base)):
        for t in ('bbox', 'segm'):
            keep = [{k: v for k, v in x.items() if t == 'segm' or k != 'segmentation'}
                    for x in dets]
            (d / f'{name}.{t}.json').write_text(json.dumps(keep))
    (d / 'empty.bbox.json').write_text('[]')
    return d


def test_writes_tables_and_report(files, capsys):
    out = files / 'ci.json'
    code, stdout, stderr = run(capsys, files / 'gt.json', '--bbox', files / 'run.bbox.json',
                               '--segm', files / 'run.segm.json', '--n', 200, '--seed', 3,
                               '--out', out, '--compare', files / 'base')
    assert code == 0 and stderr == ''
    assert 'AP50' in stdout and '95% CI' in stdout and 'P(B>A)' in stdout
    report = json.loads(out.read_text())
    assert (report['n'], report['seed'], report['num_images']) == (200, 3, 8)
    assert report['protocol'] == 'coco' and report['warnings'] == []
    assert report['gt'] == str(files / 'gt.json')
    for t in ('bbox', 'segm'):
        m = report[t]['metrics']['AP']
        assert m['lower'] <= m['point'] <= m['upper']
        assert len(report[t]['coco_stats']) == 12
        assert report[t]['coco_stats'][0] == pytest.approx(m['point'], abs=1e-9)
        assert report['compare'][t]['metrics']['AP']['point'] > 0


def test_bad_input_fails_with_one_line(files, capsys):
    out = files / 'keep.json'
    out.write_text('{"old": true}')
    for args, msg in (
            (['--segm', files / 'missing.segm.json'], 'missing.segm.json: detection results '
             'file not found'),
            (['--bbox', files / 'gt.json'], 'not a COCO results file'),
            (['--bbox', files / 'run.bbox.json', '--protocol', 'batch-mean:0'], '--protocol'),
            (['--bbox', files / 'run.bbox.json', '--protocol', 'batch-mean:2', '--compare',
              files / 'base'], '--compare needs a whole-split protocol')):
        code, _, stderr = run(capsys, files / 'gt.json', *args, '--out', out)
        assert code == 2, stderr
        assert stderr.startswith('error: ') and stderr.count('\n') == 1, stderr
        assert msg in stderr
    assert out.read_text() == '{"old": true}'


def test_empty_results_warn(files, capsys):
    out = files / 'empty.json'
    code, _, stderr = run(capsys, files / 'gt.json', '--bbox', files / 'empty.bbox.json',
                          '--n', 20, '--out', out)
    message = f'no detections in {files / "empty.bbox.json"}: AP is 0 by definition'
    assert code == 0 and stderr == f'warning: {message}\n'
    report = json.loads(out.read_text())
    assert report['warnings'] == [message]
    assert report['bbox']['metrics']['AP']['point'] == 0.0


def test_protocol_batch_mean(files, capsys):
    out = files / 'batch.json'
    code, stdout, _ = run(capsys, files / 'gt.json', '--segm', files / 'run.segm.json',
                          '--protocol', 'batch-mean:4,score-thr:0.5', '--out', out)
    assert code == 0
    assert 'protocol batch-mean:4,score-thr:0.5' in stdout and 'batch mean' in stdout
    report = json.loads(out.read_text())
    assert report['protocol'] == 'batch-mean:4,score-thr:0.5'
    assert [b['image_ids'] for b in report['segm']['per_batch']] == [[1, 2, 3, 4],
                                                                     [5, 6, 7, 8]]
