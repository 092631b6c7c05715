"""tools/time_to_accuracy.py in this process: the committed run records summarise to the
committed summary; both systems train on real Penn-Fudan images for a seconds-long budget,
snapshot at the marks and are scored by COCOeval; bad input gets one-line errors. No
assertion on AP."""
import json

import pytest

from helpers import CPU_CONFIG, ROOT, tool_main

RESULTS = ROOT / 'docs' / 'results' / 'time_to_accuracy'
TINY = ['--input-size', '128', '128', '--threads', '1', '--budget', '6', '--every', '3',
        '--warmup', '2', '--batch-size', '2', '--cfg-options',
        'train_dataloader.dataset.indices=8', 'train_dataloader.num_workers=0',
        'train_dataloader.persistent_workers=False', 'test_dataloader.dataset.indices=3']


def test_committed_records_give_the_committed_summary(tmp_path, capsys):
    records = [*sorted((RESULTS / 'runs').glob('reference_s?.json')),
               *sorted((RESULTS / 'runs_s8').glob('test_ours-s8_s?.json')),
               *sorted((RESULTS / 'runs_m4').glob('test_ours-m4_s?.json'))]
    out, png = tmp_path / 'summary.json', tmp_path / 'curves.png'
    tool_main('time_to_accuracy')(['summarize', *map(str, records), '--ours', 'ours-m4',
                                   '--out', str(out), '--plot', str(png)])
    def rounded(path):   # equal up to the last bits of float sums
        return json.loads(path.read_text(), parse_float=lambda x: round(float(x), 9))

    assert rounded(out) == rounded(RESULTS / 'test_m4' / 'summary.json')
    assert png.stat().st_size > 10_000 and 'ours-m4/this' in capsys.readouterr().out


def test_bad_input_is_one_line(tmp_path, user_error):
    main = tool_main('time_to_accuracy')
    (tmp_path / 'bad.json').write_text('{"system": "nobody"}')
    user_error(main, ['summarize', tmp_path / 'bad.json'], 'is not a time-to-accuracy run')
    user_error(main, ['summarize', RESULTS / 'runs' / 'ours_s0.json', '--ours', 'b2'],
               "no runs labelled 'b2' among ours")
    user_error(main, ['run', CPU_CONFIG, '--system', 'ours', '--work-dir', tmp_path / 'w',
                      '--budget', '10', '--every', '20'], '--every <= --budget')
    (tmp_path / 'w').mkdir()
    (tmp_path / 'w' / 'record.json').write_text('{}')
    user_error(main, ['run', CPU_CONFIG, '--system', 'ours', '--work-dir', tmp_path / 'w'],
               'record.json exists')


@pytest.mark.slow
def test_both_systems_snapshot_at_each_mark_and_are_scored(tmp_path, coco_data, capsys,
                                                           monkeypatch):
    from pennfudan_bench.budget import MODELS
    from pennfudan_vit.engine import mixed_precision as mp
    # on a CPU with bf16 units too, both systems train in fp32
    monkeypatch.setattr(mp, 'cpu_info', lambda: dict(model='x', cpus=2, bf16=['amx_bf16'],
                                                     int8=[]))
    monkeypatch.setattr(mp, 'adapt_to_cpu_bf16', lambda model: pytest.fail('adapted to bf16'))
    from pennfudan_vit.config import load_config
    from pennfudan_vit.detector import load_weights
    records = {}
    for system in ('ours', 'reference'):
        tool_main('time_to_accuracy')(['run', CPU_CONFIG, '--system', system, '--work-dir',
                                       str(tmp_path / system), '--data-root', str(coco_data),
                                       *TINY])
        assert f'[time-to-accuracy] {system} seed 0 6 s' in capsys.readouterr().out
        records[system] = tmp_path / system / 'record.json'
        rec = json.loads(records[system].read_text())
        assert (rec['system'], rec['seed'], rec['split'], rec['batch_size']) == (system, 0,
                                                                                'test', 2)
        assert rec['input_size'] == [128, 128] and rec['threads'] == 1
        assert [p['mark_s'] for p in rec['points']] == [3.0, 6.0]
        first, last = rec['points']
        assert 0 < first['iters'] <= last['iters'] and last['images'] == 2 * last['iters']
        for point in rec['points']:
            for iou_type in ('bbox', 'segm'):
                ap = point[iou_type]['AP']
                assert 0 <= ap['lower'] <= ap['point'] <= ap['upper'] <= 1
        cfg = load_config(CPU_CONFIG)
        load_weights(MODELS[system](cfg), last['path'])   # the plugin's one weight loader
    tool_main('time_to_accuracy')(['summarize', *map(str, records.values()), '--out',
                                   str(tmp_path / 's.json')])
    summary = json.loads((tmp_path / 's.json').read_text())
    assert set(summary['systems']) == {'ours', 'reference'} and set(summary['ratio']) == {
        'reference'}
    assert summary['systems']['ours']['marks']['6']['seeds'] == 1
