"""Aggregation over folds: mean, sample std, COCO's -1 left out, the markdown table."""
import pytest

from pennfudan_vit.cross_val.summary import aggregate, format_table, summarize_split


def test_aggregate():
    agg = aggregate([0.5, 0.7, -1.0])
    assert agg['mean'] == pytest.approx(0.6) and agg['std'] == pytest.approx(0.1414213562)
    assert aggregate([0.5])['std'] is None and aggregate([-1, None]) == dict(mean=None, std=None)


def _fold(k, bbox, extra=None):
    metrics = {'coco/bbox_mAP': bbox, 'coco/segm_mAP': bbox / 2, **(extra or {})}
    return dict(fold=k, n_train=10, n_heldout=5, checkpoint=f'c{k}',
                heldout=dict(metrics_file=f'm{k}', metrics=metrics))


def test_summarize_split_and_table():
    s = summarize_split([_fold(0, 0.2, {'only_here': 1.0}), _fold(1, 0.4)], 'heldout',
                        'n_heldout')
    assert set(s['mean']) == {'coco/bbox_mAP', 'coco/segm_mAP'}  # metrics every fold has
    assert s['mean']['coco/bbox_mAP'] == pytest.approx(0.3)
    assert s['per_fold'][1] == dict(fold=1, n_train=10, n_eval=5, checkpoint='c1',
                                    metrics_file='m1', metrics=_fold(1, 0.4)['heldout']['metrics'])
    lines = format_table(s).splitlines()
    assert len(lines) == 5 and 'bbox mAP' in lines[0] and 'segm AP50' in lines[0]
    assert lines[1].startswith('|--') and lines[1].endswith(':|')
    assert [ln.split('|')[1].strip() for ln in lines[2:]] == ['0', '1', 'mean ± std']
    assert '0.300 ± 0.141' in lines[-1] and 'n/a ± n/a' in lines[-1]  # no AP50 given
    assert len({len(ln) for ln in lines}) == 1  # aligned columns
