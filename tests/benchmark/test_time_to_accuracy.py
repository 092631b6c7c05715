"""tools/time_to_accuracy.py on real Penn-Fudan images with a seconds-long budget: both
systems train, snapshot at the marks and are scored by COCOeval; the summary pairs them;
bad input gets one-line errors. No assertion on AP (a few seconds of training)."""
import json

import pytest

from helpers import CPU_CONFIG, run_tool

TINY = ['--input-size', '128', '128', '--threads', '1', '--budget', '8', '--every', '4',
        '--warmup', '2', '--cfg-options', 'train_dataloader.dataset.indices=8',
        'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
        'test_dataloader.dataset.indices=3']


@pytest.fixture(scope='module')
def records(tmp_path_factory, coco_data):
    out = tmp_path_factory.mktemp('tta')
    paths = {}
    for system in ('ours', 'reference'):
        proc = run_tool('tools/time_to_accuracy.py', 'run', CPU_CONFIG, '--system', system,
                        '--work-dir', out / system, '--data-root', coco_data,
                        '--batch-size', '2', *TINY)
        assert f'[time-to-accuracy] {system} seed 0 8 s' in proc.stdout
        paths[system] = out / system / 'record.json'
    return paths


@pytest.mark.parametrize('system', ['ours', 'reference'])
def test_run_snapshots_at_each_mark_and_scores_them(records, system):
    rec = json.loads(records[system].read_text())
    assert rec['system'] == system and rec['seed'] == 0 and rec['split'] == 'test'
    assert rec['batch_size'] == 2 and rec['input_size'] == [128, 128] and rec['threads'] == 1
    assert [p['mark_s'] for p in rec['points']] == [4.0, 8.0]
    first, last = rec['points']
    assert 0 < first['iters'] < last['iters'] and last['images'] == 2 * last['iters']
    assert last['elapsed_s'] >= 8.0
    for point in rec['points']:
        assert (records[system].parent / point['path'].split('/')[-1]).is_file()
        for iou_type in ('bbox', 'segm'):
            ap = point[iou_type]['AP']
            assert 0 <= ap['lower'] <= ap['point'] <= ap['upper'] <= 1


def test_summarize_pairs_systems_by_mark(records, tmp_path):
    out, png = tmp_path / 'summary.json', tmp_path / 'curves.png'
    proc = run_tool('tools/time_to_accuracy.py', 'summarize', *records.values(),
                    '--out', out, '--plot', png)
    summary = json.loads(out.read_text())
    assert set(summary['systems']) == {'ours', 'reference'} and summary['split'] == 'test'
    assert set(summary['systems']['ours']['marks']) == {'4', '8'}
    row = summary['systems']['reference']['marks']['8']
    assert row['seeds'] == 1 and row['bbox_AP']['min'] == row['bbox_AP']['max']
    assert set(summary['ratio']) == {'reference'}
    assert set(summary['ratio']['reference']) <= {'4', '8'}
    assert png.stat().st_size > 10_000
    assert 'reference' in proc.stdout and 'ours/this' in proc.stdout


def test_bad_input_is_one_line(records, tmp_path):
    bad = tmp_path / 'bad.json'
    bad.write_text('{"system": "nobody"}')
    proc = run_tool('tools/time_to_accuracy.py', 'summarize', bad, check=False)
    assert proc.returncode == 2 and 'is not a time-to-accuracy run record' in proc.stderr
    assert 'Traceback' not in proc.stderr
    work = records['ours'].parent
    proc = run_tool('tools/time_to_accuracy.py', 'run', CPU_CONFIG, '--system', 'ours',
                    '--work-dir', work, check=False)
    assert proc.returncode == 2 and 'record.json exists' in proc.stderr
    proc = run_tool('tools/time_to_accuracy.py', 'run', CPU_CONFIG, '--system', 'ours',
                    '--work-dir', tmp_path / 'w', '--budget', '10', '--every', '20',
                    check=False)
    assert proc.returncode == 2 and '--every <= --budget' in proc.stderr


def test_rescore_scores_the_same_snapshots_on_another_split(records, tmp_path, coco_data):
    out = tmp_path / 'val.json'
    run_tool('tools/time_to_accuracy.py', 'rescore', records['ours'], '--split', 'val',
             '--out', out, '--data-root', coco_data)
    test, val = (json.loads(p.read_text()) for p in (records['ours'], out))
    assert val['split'] == 'val' and val['rescored_from'] == 'test'
    assert val['cfg_options'] == test['cfg_options'] and test['cfg_options']
    keep = ('mark_s', 'iters', 'images', 'path')
    assert [{k: p[k] for k in keep} for p in val['points']] == \
        [{k: p[k] for k in keep} for p in test['points']]
    # the same weights predicted 17 val images, not the run's 3 test images
    assert val['points'][-1]['detections'] > test['points'][-1]['detections']
    labelled = dict(test, label='ours-variant')
    (tmp_path / 'labelled.json').write_text(json.dumps(labelled))
    proc = run_tool('tools/time_to_accuracy.py', 'summarize', records['ours'],
                    records['reference'], tmp_path / 'labelled.json', '--ours', 'ours-variant',
                    '--out', tmp_path / 's.json')
    summary = json.loads((tmp_path / 's.json').read_text())
    assert set(summary['systems']) == {'ours', 'ours-variant', 'reference'}
    assert summary['ours'] == 'ours-variant'
    assert set(summary['ratio']) == {'ours', 'reference'}
    assert summary['ratio']['ours']['8']['bbox_AP'] in (1.0, None)
    assert 'ours-variant/this' in proc.stdout
    proc = run_tool('tools/time_to_accuracy.py', 'summarize', records['ours'], '--ours', 'b2',
                    check=False)
    assert proc.returncode == 2 and "no runs labelled 'b2' among ours" in proc.stderr
    gone = dict(test, points=[dict(test['points'][0], path=str(tmp_path / 'gone.pth'))])
    (tmp_path / 'gone.json').write_text(json.dumps(gone))
    proc = run_tool('tools/time_to_accuracy.py', 'rescore', tmp_path / 'gone.json', '--split',
                    'val', '--out', tmp_path / 'x.json', '--data-root', coco_data, check=False)
    assert proc.returncode == 2 and 'gone.pth of the run is gone' in proc.stderr


def test_every_curve_gets_its_own_colour():
    """Variants (--label) never take a fixed system's colour (they did: ours-x and the reference)."""
    from pennfudan_vit.visualization.time_to_accuracy import COLOURS, curve_colours
    names = ['reference', 'ours-b2', 'ours-s8', 'ours', 'reference-torchvision'] + [
        f'v{i}' for i in range(8)]
    colours = curve_colours(names)
    assert [colours[n] for n in COLOURS] == list(COLOURS.values())
    assert len(set(colours[n] for n in names[:5])) == 5
    assert not set(colours[n] for n in names[5:]) & set(COLOURS.values())
