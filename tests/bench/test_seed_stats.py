"""tools/summarize_seeds.py in this process: the committed test runs give the committed
seed summary, one run is placed against it (as make demo does), bad input is one line."""
import json

from helpers import ROOT, tool_main
from pennfudan_bench.seed_stats import spread

RECIPE = 'docs/results/deit-tiny_mrcnn_pennfudan_cpu'
RUNS = [f'{RECIPE}/metrics.json', f'{RECIPE}/seed1/metrics.json', f'{RECIPE}/seed2/metrics.json']


def test_the_committed_runs_give_the_committed_summary(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(ROOT)   # the summary records the paths it was given
    tool_main('summarize_seeds')([*RUNS, '--out', str(tmp_path / 'seeds.json')])
    assert json.loads((tmp_path / 'seeds.json').read_text()) == json.loads(
        (ROOT / RECIPE / 'seeds.json').read_text())
    assert 'coco/segm_mAP' in capsys.readouterr().out
    tool_main('summarize_seeds')([RUNS[1], '--against', f'{RECIPE}/seeds.json'])
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 4 and 'published over 3 seeds' in lines[0]
    assert not any('outside the published range' in line for line in lines)
    assert spread([1.0]) == dict(mean=1.0, std=0.0, min=1.0, max=1.0)


def test_bad_input_is_one_line(tmp_path, user_error):
    main = tool_main('summarize_seeds')
    (tmp_path / 'x.json').write_text('{"metrics": {}}')
    user_error(main, [tmp_path / 'x.json', tmp_path / 'x.json'],
               'is not the metrics.json of a tools/test.py run')
    user_error(main, [ROOT / RUNS[0]], 'at least two test runs')
    user_error(main, [ROOT / RUNS[0], '--against', tmp_path / 'none.json'], '--against')
