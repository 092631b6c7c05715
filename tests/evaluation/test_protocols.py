"""Evaluation protocols (coco, batch-mean:N, score-thr:T) on cases known by hand.

With one person per image, an exact hit scores IoU 1 at every threshold, so
AP = AP50 = AP75 and each value follows from the 101 recall points of COCO:
recall 0.5 with precision 1 covers the 51 points 0.00..0.50.
"""
import numpy as np
import pytest

from pennfudan_vit.errors import UserError
from pennfudan_vit.evaluation import (Protocol, batch_mean_from_eval, evaluate_per_image,
                                      parse_protocol)
from coco_synthetic import IOU_TYPES, box_gt, coco_stats, hit, make_dataset, miss, subset

HALF = 51 / 101  # precision 1 up to recall 0.5, nothing beyond


def _coco(gt, dets, score_thr=None):
    return evaluate_per_image(gt, dets, 'bbox', score_thr).metrics()


def _batch_mean(gt, dets, protocol):
    protocol = parse_protocol(protocol)
    pie = evaluate_per_image(gt, dets, 'bbox', protocol.score_thr)
    return batch_mean_from_eval(pie, protocol)


@pytest.mark.parametrize('text, expected', [
    ('coco', Protocol()),
    ('batch-mean:4', Protocol(batch_size=4)),
    ('score-thr:0.5', Protocol(score_thr=0.5)),
    ('batch-mean:4,score-thr:0.5', Protocol(4, 0.5)),
    (' score-thr:0.3 , batch-mean:2', Protocol(2, 0.3)),
    ('coco,score-thr:0.05', Protocol(score_thr=0.05)),
])
def test_parse_protocol(text, expected):
    assert parse_protocol(text) == expected
    assert parse_protocol(str(expected)) == expected


@pytest.mark.parametrize('text', [
    '', 'foo', 'coco:1', 'batch-mean', 'batch-mean:0', 'batch-mean:2.5', 'batch-mean:x',
    'score-thr:', 'score-thr:abc', 'score-thr:nan', 'coco,batch-mean:2',
    'batch-mean:2,batch-mean:4', 'score-thr:0.1,score-thr:0.2'])
def test_parse_protocol_rejects(text):
    with pytest.raises(UserError, match='--protocol'):
        parse_protocol(text)


def test_batch_with_perfect_prediction_and_batch_with_none():
    gt = box_gt({1: 1, 2: 1})
    dets = [hit(1, 0, 0.9)]
    np.testing.assert_allclose(_coco(gt, dets), [HALF] * 3, atol=1e-12)
    res = _batch_mean(gt, dets, 'batch-mean:1')
    np.testing.assert_allclose(res.per_batch, [[1, 1, 1], [0, 0, 0]])
    np.testing.assert_allclose(res.point(), [0.5] * 3)
    # one batch holding the whole split is the coco protocol
    np.testing.assert_allclose(_batch_mean(gt, dets, 'batch-mean:2').point(), [HALF] * 3,
                               atol=1e-12)


def test_batch_mean_hides_a_false_positive_outranking_another_image():
    # image 2's false positive (0.7) outranks image 1's hit (0.5): it costs
    # precision over the split, never within image 2's own batch
    gt = box_gt({1: 1, 2: 1})
    dets = [hit(1, 0, 0.5), hit(2, 0, 0.9), miss(2, 0.7)]
    np.testing.assert_allclose(_coco(gt, dets), [(51 + 50 * 2 / 3) / 101] * 3, atol=1e-12)
    np.testing.assert_allclose(_batch_mean(gt, dets, 'batch-mean:1').point(), [1.0] * 3)


def test_batch_without_ground_truth_is_left_out():
    gt = box_gt({1: 1, 2: 1, 3: 0})
    dets = [hit(1, 0, 0.8), hit(2, 0, 0.6), miss(3, 0.95)]
    np.testing.assert_allclose(_coco(gt, dets), [2 / 3] * 3, atol=1e-12)
    res = _batch_mean(gt, dets, 'batch-mean:1')
    np.testing.assert_allclose(res.per_batch[:, 0], [1, 1, -1])
    d = res.to_dict()
    assert d['metrics']['AP'] == pytest.approx({'point': 1.0, 'min': 1.0, 'max': 1.0,
                                                'n_valid': 2, 'n_excluded': 1})
    assert [b['image_ids'] for b in d['per_batch']] == [[1], [2], [3]]
    assert d['per_batch'][2]['AP'] is None and d['num_batches'] == 3
    assert d['whole_split']['AP'] == pytest.approx(2 / 3)


def test_batches_follow_image_id_order_last_one_smaller():
    gt = box_gt({7: 1, 3: 1, 5: 1})  # file order is not id order
    dets = [hit(3, 0, 0.9), hit(5, 0, 0.9)]
    res = _batch_mean(gt, dets, 'batch-mean:2')
    assert res.batch_img_ids == [[3, 5], [7]]
    np.testing.assert_allclose(res.per_batch[:, 0], [1, 0])


def test_score_thr_drops_low_scores_before_evaluating():
    gt = box_gt({1: 1, 2: 1})
    dets = [hit(1, 0, 0.9), miss(1, 0.2), hit(2, 0, 0.3)]
    np.testing.assert_allclose(_coco(gt, dets), [1.0] * 3)
    # the false positive at 0.2 ranks below every hit: dropping it changes nothing
    np.testing.assert_allclose(_coco(gt, dets, 0.25), [1.0] * 3)
    # 0.5 also drops the hit at 0.3: recall stops at 0.5
    np.testing.assert_allclose(_coco(gt, dets, 0.5), [HALF] * 3, atol=1e-12)
    np.testing.assert_allclose(_batch_mean(gt, dets, 'batch-mean:1,score-thr:0.5').point(),
                               [0.5] * 3)


def test_score_thr_never_raises_coco_ap():
    """A threshold cuts the ranked list: the interpolated precision can only drop."""
    gt, dets = make_dataset(num_images=30, seed=4)
    for iou_type in IOU_TYPES:
        full = evaluate_per_image(gt, dets[iou_type], iou_type).metrics()
        for thr in (0.1, 0.3, 0.5, 0.7):
            kept = [d for d in dets[iou_type] if d['score'] >= thr]
            cut = evaluate_per_image(gt, dets[iou_type], iou_type, thr).metrics()
            np.testing.assert_allclose(cut, coco_stats(gt, kept, iou_type)[:3], atol=1e-9)
            assert np.all(cut <= full + 1e-12), (iou_type, thr)


@pytest.mark.parametrize('iou_type', IOU_TYPES)
def test_batch_ap_equals_cocoeval_on_the_batch_alone(iou_type):
    gt, dets = make_dataset(num_images=30, seed=2)
    pie = evaluate_per_image(gt, dets[iou_type], iou_type)
    res = batch_mean_from_eval(pie, Protocol(batch_size=4))
    assert [len(b) for b in res.batch_img_ids] == [4] * 7 + [2]
    for ids, row in zip(res.batch_img_ids, res.per_batch):
        batch_gt, batch_dets = subset(gt, dets[iou_type], ids)
        assert batch_dets, 'every batch of this data set has detections'
        np.testing.assert_allclose(row, coco_stats(batch_gt, batch_dets, iou_type)[:3],
                                   atol=1e-9)


def test_batch_of_one_leaves_out_images_without_people():
    gt, dets = make_dataset(num_images=12, seed=0)  # images 0 and 1 have no person
    pie = evaluate_per_image(gt, dets['segm'], 'segm')
    d = batch_mean_from_eval(pie, Protocol(batch_size=1)).to_dict()
    assert d['metrics']['AP']['n_excluded'] == 2 and d['metrics']['AP']['n_valid'] == 10


def test_batch_mean_needs_a_batch_size():
    gt = box_gt({1: 1})
    with pytest.raises(ValueError):
        batch_mean_from_eval(evaluate_per_image(gt, [hit(1, 0, 1.0)], 'bbox'), Protocol())
