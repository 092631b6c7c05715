"""Tests of the bootstrap COCO evaluation (pennfudan_vit.evaluation.bootstrap).

Synthetic datasets are built in numpy (rectangles / ellipses as RLE), so the
tests need only numpy + pycocotools and run in a few seconds.
"""
import contextlib
import copy
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from pycocotools import mask as mask_utils
from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval

ROOT = Path(__file__).resolve().parents[2]
try:
    import pennfudan_vit  # noqa: F401
except ImportError:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT / 'projects'))

from pennfudan_vit.evaluation.bootstrap import (  # noqa: E402
    EvalInputError, PerImageEval, bootstrap_coco_metrics, bootstrap_from_eval,
    draw_samples, evaluate_per_image, paired_bootstrap_diff,
    paired_diff_from_evals)

H, W = 96, 128
IOU_TYPES = ('bbox', 'segm')
METRICS = ('AP', 'AP50', 'AP75')


# --------------------------------------------------------------------------- #
# Synthetic data
# --------------------------------------------------------------------------- #
def _shape_mask(rng, kind):
    """A random rectangle or ellipse (person-like: taller than wide)."""
    w = int(rng.integers(8, 40))
    h = int(rng.integers(16, 70))
    x0 = int(rng.integers(0, W - w))
    y0 = int(rng.integers(0, H - h))
    m = np.zeros((H, W), dtype=np.uint8)
    if kind == 'rect':
        m[y0:y0 + h, x0:x0 + w] = 1
    else:
        yy, xx = np.mgrid[:H, :W]
        cy, cx = y0 + h / 2, x0 + w / 2
        m[((yy - cy) / (h / 2))**2 + ((xx - cx) / (w / 2))**2 <= 1] = 1
    return m


def _rle(mask):
    rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
    rle['counts'] = rle['counts'].decode('ascii')  # as mmdet writes it
    return rle


def _shift(mask, dx, dy):
    out = np.zeros_like(mask)
    ys, xs = np.nonzero(mask)
    ys, xs = np.clip(ys + dy, 0, H - 1), np.clip(xs + dx, 0, W - 1)
    out[ys, xs] = 1
    return out


def _det(image_id, mask, score, cat=1):
    rle = _rle(mask)
    box = [float(v) for v in mask_utils.toBbox(rle)]
    # scores on a 0.05 grid: ties across images exercise the sort order
    score = round(float(score) * 20) / 20
    return ({'image_id': image_id, 'category_id': cat, 'bbox': box,
             'score': score},
            {'image_id': image_id, 'category_id': cat, 'bbox': box,
             'score': score, 'segmentation': rle})


def make_dataset(num_images=30, seed=0, num_cats=1):
    """GT dict and (bbox, segm) results with known per-image quality.

    Image i is 'perfect' (exact masks), 'shifted' (1-4 px off), 'missed'
    (people missed) or 'noisy' (false positives, some high-scoring);
    image 0 has no person but a false positive, image 1 is empty.
    """
    rng = np.random.default_rng(seed)
    images, anns, bbox_res, segm_res = [], [], [], []
    ann_id = 1
    for i in range(num_images):
        img_id = 100 + 7 * i  # non-contiguous ids
        images.append({'id': img_id, 'file_name': f'{i}.png', 'height': H,
                       'width': W})
        quality = ('perfect', 'shifted', 'missed', 'noisy')[i % 4]
        n_obj = 0 if i < 2 else int(rng.integers(2, 7))
        for _ in range(n_obj):
            cat = int(rng.integers(1, num_cats + 1))
            m = _shape_mask(rng, 'rect' if rng.random() < 0.5 else 'ellipse')
            rle = _rle(m)
            anns.append({'id': ann_id, 'image_id': img_id,
                         'category_id': cat, 'segmentation': rle,
                         'area': float(mask_utils.area(rle)),
                         'bbox': [float(v) for v in mask_utils.toBbox(rle)],
                         'iscrowd': 0})
            ann_id += 1
            if quality == 'perfect':
                pred, score = m, rng.uniform(0.6, 1.0)
            elif quality == 'shifted':
                pred = _shift(m, int(rng.integers(1, 5)),
                              int(rng.integers(-3, 4)))
                score = rng.uniform(0.3, 0.9)
            elif quality == 'missed' and rng.random() < 0.4:
                continue
            else:
                pred = _shift(m, int(rng.integers(-2, 3)), 1)
                score = rng.uniform(0.2, 1.0)
            b, s = _det(img_id, pred, score, cat)
            bbox_res.append(b)
            segm_res.append(s)
        n_fp = {'noisy': 2, 'missed': 1}.get(quality, 0) + (i == 0)
        if i == 1:
            n_fp = 0
        for _ in range(n_fp):
            b, s = _det(img_id, _shape_mask(rng, 'rect'),
                        rng.uniform(0.05, 0.8),
                        int(rng.integers(1, num_cats + 1)))
            bbox_res.append(b)
            segm_res.append(s)
    cats = [{'id': c, 'name': f'c{c}'} for c in range(1, num_cats + 1)]
    gt = {'images': images, 'annotations': anns, 'categories': cats}
    return gt, {'bbox': bbox_res, 'segm': segm_res}


def gt_as_predictions(gt, iou_type):
    res = []
    for a in gt['annotations']:
        d = {'image_id': a['image_id'], 'category_id': a['category_id'],
             'bbox': list(a['bbox']), 'score': 1.0}
        if iou_type == 'segm':
            d['segmentation'] = dict(a['segmentation'])
        res.append(d)
    return res


def degrade(dets, iou_type, seed=1):
    """A worse copy: every prediction shifted 4 px, half the scores cut."""
    rng = np.random.default_rng(seed)
    out = copy.deepcopy(dets)
    for d in out:
        d['bbox'][0] += 4
        if iou_type == 'segm':
            m = mask_utils.decode(d['segmentation'])
            d['segmentation'] = _rle(_shift(m, 4, 0))
        if rng.random() < 0.5:
            d['score'] *= 0.3
    return out


def coco_stats(gt, dets, iou_type):
    """Plain pycocotools on fresh objects: the reference."""
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = copy.deepcopy(gt)
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(copy.deepcopy(dets))
        ev = COCOeval(coco_gt, coco_dt, iou_type)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    return ev.stats


def duplicate(gt, dets, sample):
    """Physically build the multiset ``sample`` (positions into sorted ids).

    Each draw becomes a new image (ids 1.. in sample order) with fresh
    annotation ids, so plain COCOeval sees duplicated images as distinct.
    """
    img_ids = sorted(img['id'] for img in gt['images'])
    by_img = {i: [a for a in gt['annotations'] if a['image_id'] == i]
              for i in img_ids}
    dets_by_img = {i: [d for d in dets if d['image_id'] == i]
                   for i in img_ids}
    images, anns, new_dets = [], [], []
    for new_id, pos in enumerate(sample, start=1):
        old = img_ids[pos]
        images.append({'id': new_id, 'height': H, 'width': W})
        for a in by_img[old]:
            anns.append(dict(copy.deepcopy(a), id=len(anns) + 1,
                             image_id=new_id))
        for d in dets_by_img[old]:
            new_dets.append(dict(copy.deepcopy(d), image_id=new_id))
    return ({'images': images, 'annotations': anns,
             'categories': gt['categories']}, new_dets)


@pytest.fixture(scope='module')
def data():
    return make_dataset()


@pytest.fixture(scope='module')
def pies(data):
    gt, dets = data
    return {t: evaluate_per_image(gt, dets[t], t) for t in IOU_TYPES}


# --------------------------------------------------------------------------- #
# Library
# --------------------------------------------------------------------------- #
@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_gt_as_predictions_is_perfect(data, iou_type):
    gt, _ = data
    res = bootstrap_coco_metrics(gt, gt_as_predictions(gt, iou_type),
                                 iou_type, n=200)
    for name in METRICS:
        m = res.metrics[name]
        assert m.point == 1.0
        assert (m.lower, m.upper) == (1.0, 1.0)
        assert m.std == 0.0 and m.n_excluded == 0


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_point_estimate_equals_pycocotools(data, pies, iou_type):
    gt, dets = data
    stats = coco_stats(gt, dets[iou_type], iou_type)
    point = pies[iou_type].metrics()
    assert 0.2 < stats[0] < 0.9  # a non-trivial prediction set
    np.testing.assert_allclose(point, stats[:3], rtol=0, atol=1e-9)
    np.testing.assert_allclose(pies[iou_type].coco_stats, stats, atol=1e-12)


def test_more_than_100_detections_per_image(data):
    """COCOeval keeps the top 100 per image; so must the fast path."""
    gt, dets = data
    rng = np.random.default_rng(5)
    img_id = gt['images'][6]['id']
    extra = [{'image_id': img_id, 'category_id': 1, 'score': 0.5,
              'bbox': [float(rng.integers(0, 100)),
                       float(rng.integers(0, 60)), 20.0, 30.0]}
             for _ in range(130)]
    many = dets['bbox'] + extra
    pie = evaluate_per_image(gt, many, 'bbox')
    np.testing.assert_allclose(pie.metrics(), coco_stats(gt, many, 'bbox')[:3],
                               rtol=0, atol=1e-9)
    sample = np.array([6, 6] + list(range(2, 30)))
    dup_gt, dup_dets = duplicate(gt, many, sample)
    np.testing.assert_allclose(pie.metrics(sample),
                               coco_stats(dup_gt, dup_dets, 'bbox')[:3],
                               rtol=0, atol=1e-9)


def test_point_estimate_multi_category():
    gt, dets = make_dataset(num_images=24, seed=3, num_cats=3)
    for t in IOU_TYPES:
        stats = coco_stats(gt, dets[t], t)
        point = evaluate_per_image(gt, dets[t], t).metrics()
        np.testing.assert_allclose(point, stats[:3], rtol=0, atol=1e-9)


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_bootstrap_mean_and_interval(data, pies, iou_type):
    gt, dets = data
    stats = coco_stats(gt, dets[iou_type], iou_type)
    res = bootstrap_from_eval(pies[iou_type], n=1000, seed=0)
    assert res.n == 1000 and res.seed == 0 and res.num_images == 30
    for j, name in enumerate(METRICS):
        m = res.metrics[name]
        assert abs(m.mean - stats[j]) < 0.01, (name, m)
        assert m.lower < stats[j] < m.upper, (name, m)
        assert m.std > 0 and m.n_excluded == 0 and m.n_valid == 1000


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_replicate_equals_physically_duplicated_dataset(
        data, pies, iou_type):
    gt, dets = data
    num = pies[iou_type].num_images
    chosen = np.array([5, 5, 5, 2, 17, 0, 29, 17, 8, 1] + list(range(10, 30)))
    samples = [chosen] + list(draw_samples(num, n=3, seed=42))
    for sample in samples:
        dup_gt, dup_dets = duplicate(gt, dets[iou_type], sample)
        stats = coco_stats(dup_gt, dup_dets, iou_type)
        fast = pies[iou_type].metrics(sample)
        np.testing.assert_allclose(fast, stats[:3], rtol=0, atol=1e-9)


def test_seed_reproducibility(pies):
    a = bootstrap_from_eval(pies['bbox'], n=300, seed=7)
    b = bootstrap_from_eval(pies['bbox'], n=300, seed=7)
    c = bootstrap_from_eval(pies['bbox'], n=300, seed=8)
    assert a.to_dict() == b.to_dict()
    assert (a.metrics['AP'].lower, a.metrics['AP'].upper) != (
        c.metrics['AP'].lower, c.metrics['AP'].upper)
    assert a.metrics['AP'].point == c.metrics['AP'].point


def test_undefined_replicates_are_excluded():
    """Only one image has a person: samples without it have AP = -1."""
    gt, dets = make_dataset(num_images=6, seed=0)
    keep = gt['images'][2]['id']
    gt['annotations'] = [a for a in gt['annotations']
                         if a['image_id'] == keep]
    pie = evaluate_per_image(gt, dets['bbox'], 'bbox')
    res = bootstrap_from_eval(pie, n=400, seed=0)
    samples = draw_samples(6, n=400, seed=0)
    pos = sorted(img['id'] for img in gt['images']).index(keep)
    expected = int(np.sum(~np.any(samples == pos, axis=1)))
    assert expected > 0
    for name in METRICS:
        m = res.metrics[name]
        assert m.n_excluded == expected and m.n_valid == 400 - expected
        assert 0 <= m.lower <= m.upper <= 1


def test_empty_detections_give_zero(data):
    gt, _ = data
    res = bootstrap_coco_metrics(gt, [], 'segm', n=50)
    for name in METRICS:
        assert res.metrics[name].point == 0.0
        assert res.metrics[name].upper == 0.0


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_paired_diff_with_itself_is_zero(data, pies, iou_type):
    res = paired_diff_from_evals(pies[iou_type], pies[iou_type], n=300)
    for name in METRICS:
        d = res.metrics[name]
        assert d.point == 0.0 and d.mean == 0.0
        assert (d.lower, d.upper) == (0.0, 0.0)
        assert d.frac_b_better == 0.0 and d.frac_tie == 1.0


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_paired_diff_detects_degradation(data, iou_type):
    gt, dets = data
    worse = degrade(dets[iou_type], iou_type)
    res = paired_bootstrap_diff(gt, dets[iou_type], worse, iou_type, n=500)
    ref_a = coco_stats(gt, dets[iou_type], iou_type)
    ref_b = coco_stats(gt, worse, iou_type)
    for j, name in enumerate(METRICS):
        d = res.metrics[name]
        assert d.point == pytest.approx(ref_b[j] - ref_a[j], abs=1e-9)
        assert d.upper < 0, (name, d)
        assert d.frac_b_better < 0.025
    assert res.metrics['AP'].point < -0.1


def test_input_errors(data, tmp_path):
    gt, dets = data
    bad = copy.deepcopy(dets['bbox'])
    bad[3]['image_id'] = 999999
    with pytest.raises(EvalInputError, match='absent from the ground truth'):
        evaluate_per_image(gt, bad, 'bbox')
    with pytest.raises(EvalInputError, match='cannot be used for segm'):
        evaluate_per_image(gt, dets['bbox'], 'segm')
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(gt))
    with pytest.raises(EvalInputError, match='ground-truth file'):
        evaluate_per_image(gt, str(gt_file), 'bbox')
    with pytest.raises(EvalInputError, match='not found'):
        evaluate_per_image(str(tmp_path / 'nope.json'), dets['bbox'], 'bbox')
    zero = copy.deepcopy(gt)
    zero['annotations'][0]['id'] = 0
    with pytest.raises(EvalInputError, match='annotation id 0'):
        evaluate_per_image(zero, dets['bbox'], 'bbox')
    boxes_only = copy.deepcopy(gt)
    for a in boxes_only['annotations']:
        del a['segmentation']
    with pytest.raises(EvalInputError, match='without segmentation'):
        evaluate_per_image(boxes_only, dets['segm'], 'segm')
    # inputs are not modified
    assert 'id' not in dets['bbox'][0] and 'area' not in dets['segm'][0]


def test_pie_rejects_unevaluated():
    with pytest.raises(ValueError):
        PerImageEval(COCOeval(iouType='bbox'), 'bbox')


# --------------------------------------------------------------------------- #
# CLI
# --------------------------------------------------------------------------- #
def _cli(*args, cwd):
    return subprocess.run(
        [sys.executable, str(ROOT / 'tools' / 'eval_ci.py'), *map(str, args)],
        cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture(scope='module')
def files(data, tmp_path_factory):
    gt, dets = data
    d = tmp_path_factory.mktemp('cli')
    (d / 'gt.json').write_text(json.dumps(gt))
    for t in IOU_TYPES:
        (d / f'run.{t}.json').write_text(json.dumps(dets[t]))
        (d / f'base.{t}.json').write_text(json.dumps(degrade(dets[t], t)))
    return d


def test_cli_writes_table_and_json(files):
    out = files / 'ci.json'
    r = _cli(files / 'gt.json', '--bbox', files / 'run.bbox.json', '--segm',
             files / 'run.segm.json', '--n', 200, '--seed', 3, '--out', out,
             '--compare', files / 'base', cwd=files)
    assert r.returncode == 0, r.stderr
    assert 'AP50' in r.stdout and '95% CI' in r.stdout and 'segm' in r.stdout
    report = json.loads(out.read_text())
    assert report['n'] == 200 and report['seed'] == 3
    assert report['num_images'] == 30
    for t in IOU_TYPES:
        m = report[t]['metrics']['AP']
        assert m['lower'] <= m['point'] <= m['upper']
        assert len(report[t]['coco_stats']) == 12
        assert report['compare'][t]['metrics']['AP']['point'] > 0


def test_cli_missing_file_fails_cleanly(files):
    out = files / 'keep.json'
    out.write_text('{"old": true}')
    missing = files / 'missing.segm.json'
    r = _cli(files / 'gt.json', '--bbox', files / 'run.bbox.json', '--segm',
             missing, '--n', 20, '--out', out, cwd=files)
    assert r.returncode != 0
    assert str(missing) in r.stderr and 'Traceback' not in r.stderr
    assert out.read_text() == '{"old": true}'


def _load_cli():
    spec = importlib.util.spec_from_file_location(
        'eval_ci', ROOT / 'tools' / 'eval_ci.py')
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_bad_results_fail_cleanly(files, data, capsys):
    """In-process (no interpreter start-up): wrong ids, not results."""
    main = _load_cli().main
    gt, dets = data
    bad = copy.deepcopy(dets['bbox'])
    bad[0]['image_id'] = 424242
    bad_file = files / 'bad.bbox.json'
    bad_file.write_text(json.dumps(bad))
    out = files / 'bad_out.json'
    for arg, msg in ((bad_file, 'absent from the ground truth'),
                     (files / 'gt.json', 'not a COCO results file')):
        code = main([str(files / 'gt.json'), '--bbox', str(arg), '--out',
                     str(out)])
        err = capsys.readouterr().err
        assert code != 0
        assert str(arg) in err and msg in err
        assert not out.exists()
