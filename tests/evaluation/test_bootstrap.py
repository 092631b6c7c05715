"""Tests of the bootstrap COCO evaluation (pennfudan_vit.evaluation).

Synthetic datasets are built in numpy (rectangles / ellipses as RLE), so the
tests need only numpy + pycocotools and run in a few seconds.
"""
import copy
import json

import numpy as np
import pytest
from pycocotools.cocoeval import COCOeval

from pennfudan_vit.errors import UserError
from pennfudan_vit.evaluation import (PerImageEval, bootstrap_coco_metrics, bootstrap_from_eval,
                                      evaluate_per_image, paired_diff_from_evals)
from pennfudan_vit.evaluation.bootstrap import draw_samples
from coco_synthetic import (IOU_TYPES, METRICS, coco_stats, degrade, duplicate,
                            gt_as_predictions, make_dataset)


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
    res = paired_diff_from_evals(evaluate_per_image(gt, dets[iou_type], iou_type),
                                 evaluate_per_image(gt, worse, iou_type), n=500)
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
    with pytest.raises(UserError, match='absent from the ground truth'):
        evaluate_per_image(gt, bad, 'bbox')
    with pytest.raises(UserError, match='cannot be used for segm'):
        evaluate_per_image(gt, dets['bbox'], 'segm')
    gt_file = tmp_path / 'gt.json'
    gt_file.write_text(json.dumps(gt))
    with pytest.raises(UserError, match='ground-truth file'):
        evaluate_per_image(gt, str(gt_file), 'bbox')
    with pytest.raises(UserError, match='not found'):
        evaluate_per_image(str(tmp_path / 'nope.json'), dets['bbox'], 'bbox')
    zero = copy.deepcopy(gt)
    zero['annotations'][0]['id'] = 0
    with pytest.raises(UserError, match='annotation id 0'):
        evaluate_per_image(zero, dets['bbox'], 'bbox')
    boxes_only = copy.deepcopy(gt)
    for a in boxes_only['annotations']:
        del a['segmentation']
    with pytest.raises(UserError, match='without segmentation'):
        evaluate_per_image(boxes_only, dets['segm'], 'segm')
    # inputs are not modified
    assert 'id' not in dets['bbox'][0] and 'area' not in dets['segm'][0]


def test_pie_rejects_unevaluated():
    with pytest.raises(ValueError):
        PerImageEval(COCOeval(iouType='bbox'), 'bbox')
