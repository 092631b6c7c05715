"""The report shared by tools/test.py and tools/eval_results.py: protocols and warnings."""
import json

import numpy as np
import pytest

from pennfudan_vit.errors import UserError
from pennfudan_vit.evaluation import (bootstrap_from_eval, bootstrap_report,
                                      evaluate_per_image)
from coco_synthetic import IOU_TYPES, make_dataset


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    gt, dets = make_dataset(num_images=12, seed=1)
    d = tmp_path_factory.mktemp('report')
    (d / 'gt.json').write_text(json.dumps(gt))
    for t in IOU_TYPES:
        (d / f'run.{t}.json').write_text(json.dumps(dets[t]))
    (d / 'empty.bbox.json').write_text('[]')
    return {'gt': str(d / 'gt.json'), 'bbox': str(d / 'run.bbox.json'),
            'segm': str(d / 'run.segm.json'), 'empty': str(d / 'empty.bbox.json')}


def test_coco_protocol_is_the_bootstrap(files):
    report, tables = bootstrap_report(files['gt'], {t: files[t] for t in IOU_TYPES}, n=50,
                                      seed=1, on_warning=None)
    assert report['protocol'] == 'coco' and report['warnings'] == []
    for t in IOU_TYPES:
        ref = bootstrap_from_eval(evaluate_per_image(files['gt'], files[t], t), 50, 1)
        assert report[t] == dict(ref.to_dict(), results=files[t])
    assert len(tables) == 2 and 'protocol' not in tables[0]


def test_empty_results_warn_and_are_recorded(files, capsys):
    report, _ = bootstrap_report(files['gt'], {'bbox': files['empty']}, n=20)
    message = f'no detections in {files["empty"]}: AP is 0 by definition'
    assert report['warnings'] == [message]
    assert capsys.readouterr().err == f'warning: {message}\n'
    assert report['bbox']['metrics']['AP']['point'] == 0.0


def test_threshold_above_every_score_warns(files):
    seen = []
    report, _ = bootstrap_report(files['gt'], {'segm': files['segm']}, n=20,
                                 protocol='score-thr:1.5', on_warning=seen.append)
    assert seen == report['warnings'] == [
        f'no detections in {files["segm"]} with score >= 1.5: AP is 0 by definition']


def test_batch_mean_report(files):
    report, tables = bootstrap_report(files['gt'], {'bbox': files['bbox']},
                                      protocol='batch-mean:4,score-thr:0.3', on_warning=None)
    assert report['protocol'] == 'batch-mean:4,score-thr:0.3'
    assert json.loads(json.dumps(report)) == report  # plain JSON types only
    bbox = report['bbox']
    assert bbox['num_batches'] == 3 and bbox['results'] == files['bbox']
    per_batch = [b['AP'] for b in bbox['per_batch'] if b['AP'] is not None]
    assert bbox['metrics']['AP']['point'] == pytest.approx(np.mean(per_batch))
    whole = evaluate_per_image(files['gt'], files['bbox'], 'bbox', 0.3).metrics()
    assert bbox['whole_split']['AP'] == pytest.approx(whole[0])
    assert 'batch mean' in tables[0] and 'whole split' in tables[0]


def test_compare_needs_whole_split_protocol(files):
    with pytest.raises(UserError, match='--compare'):
        bootstrap_report(files['gt'], {'bbox': files['bbox']}, compare_prefix='x',
                         protocol='batch-mean:2')
