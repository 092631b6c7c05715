"""tools/summarize_seeds.py in this process: the committed test runs give the committed
seed summary, runs are grouped by machine and pooled, the prediction interval is
Student's, one run is placed against it (as make demo does), bad input is one line."""
import json
import math
import statistics

import pytest

from helpers import ROOT, tool_main
from pennfudan_bench.seed_stats import SEED_METRICS, prediction_interval, spread, t_975

SEEDS = 'docs/results/deit-tiny_mrcnn_pennfudan_cpu/seeds.json'


def run_record(path, value, machine=None, seed=0):
    """A metrics.json as tools/test.py writes it, every seed metric at ``value``."""
    record = dict(metrics={k: value for k in SEED_METRICS}, train_seed=seed)
    if machine:
        record['machine'] = dict(model=machine, cpus=2)
    path.write_text(json.dumps(record))
    return str(path)


def test_the_committed_runs_give_the_committed_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)   # the summary records the paths it was given
    committed = json.loads((ROOT / SEEDS).read_text())
    machines = [a for run in committed['runs'] for a in ('--machine', run['machine'])]
    tool_main('summarize_seeds')([*[run['file'] for run in committed['runs']], *machines,
                                  '--out', str(tmp_path / 'seeds.json')])
    assert json.loads((tmp_path / 'seeds.json').read_text()) == committed
    assert 'coco/segm_mAP' in capsys.readouterr().out
    tool_main('summarize_seeds')([committed['runs'][1]['file'], '--against', SEEDS])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 + len(SEED_METRICS), lines
    assert f'of the {len(committed["runs"])} published runs' in lines[0]
    assert all('inside the 95% prediction interval' in line for line in lines[1:]), lines


def test_student_t_and_the_prediction_interval():
    stats = pytest.importorskip('scipy.stats')
    for df in range(1, 80):
        assert t_975(df) == pytest.approx(stats.t.ppf(0.975, df), abs=1e-4), df
    values = [0.31, 0.35, 0.29, 0.33]
    mean, s = statistics.mean(values), statistics.stdev(values)
    half = stats.t.ppf(0.975, 3) * s * math.sqrt(1 + 1 / 4)
    assert prediction_interval(values) == pytest.approx([mean - half, mean + half], abs=1e-5)
    assert spread([1.0]) == dict(mean=1.0, std=0.0, min=1.0, max=1.0)


def test_runs_are_grouped_by_machine_and_pooled(tmp_path, capsys):
    a = [run_record(tmp_path / f'a{i}.json', 0.30 + 0.01 * i, 'CPU A', i) for i in range(3)]
    b = [run_record(tmp_path / f'b{i}.json', 0.20 + 0.02 * i, seed=i) for i in range(2)]
    out = tmp_path / 'seeds.json'
    tool_main('summarize_seeds')([*a, *b, '--machine', 'CPU A', '--machine', 'CPU A',
                                  '--machine', 'CPU A', '--machine', 'CPU B',
                                  '--machine', 'CPU B', '--out', str(out)])
    summary = json.loads(out.read_text())
    assert {k: g['runs'] for k, g in summary['machines'].items()} == {'CPU A': 3, 'CPU B': 2}
    assert summary['machines']['CPU B']['metrics']['coco/bbox_mAP']['mean'] == \
        pytest.approx(0.21)
    pooled = summary['metrics']['coco/bbox_mAP']
    values = [0.30, 0.31, 0.32, 0.20, 0.22]
    assert pooled['n'] == 5 and pooled['mean'] == pytest.approx(statistics.mean(values))
    assert pooled['prediction_interval'] == pytest.approx(prediction_interval(values))
    assert 'CPU A (3 runs)' in capsys.readouterr().out

    far = run_record(tmp_path / 'far.json', 0.9, 'CPU C')
    tool_main('summarize_seeds')([far, '--against', str(out)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith('machine of this run: CPU C') and 'CPU A (3), CPU B (2)' in lines[0]
    assert all('OUTSIDE the 95% prediction interval' in line for line in lines[1:]), lines


def test_bad_input_is_one_line(tmp_path, user_error):
    main = tool_main('summarize_seeds')
    (tmp_path / 'x.json').write_text('{"metrics": {}}')
    user_error(main, [tmp_path / 'x.json', tmp_path / 'x.json'],
               'is not the metrics.json of a tools/test.py run')
    one = run_record(tmp_path / 'one.json', 0.3, 'CPU A')
    two = run_record(tmp_path / 'two.json', 0.3)
    user_error(main, [one], 'at least two test runs')
    user_error(main, [one, two, '--machine', 'CPU B', '--machine', 'CPU B'],
               "records machine 'CPU A', --machine says 'CPU B'")
    user_error(main, [one, two, two, '--machine', 'A', '--machine', 'B'],
               'once per metrics file (3), not 2 times')
    user_error(main, [one, '--against', tmp_path / 'none.json'], '--against')
    old = tmp_path / 'old.json'   # a summary without prediction intervals
    old.write_text(json.dumps(dict(metrics={k: spread([0.3]) for k in SEED_METRICS}, runs=[])))
    user_error(main, [one, '--against', old], 'not a seed summary with prediction intervals')
