"""Seed summaries: mean/std/range over test runs, and one run placed against them."""
import json
import subprocess
import sys

import pytest

from pennfudan_vit.errors import UserError
from pennfudan_vit.evaluation.seeds import compare_to_summary, summarize_runs

ROOT = __import__('pathlib').Path(__file__).resolve().parents[2]


def write_run(folder, seed, bbox, segm):
    folder.mkdir()
    metrics = {'coco/bbox_mAP': bbox, 'coco/bbox_mAP_50': 2 * bbox, 'coco/segm_mAP': segm,
               'coco/segm_mAP_50': 2 * segm, 'coco/bbox_mAP_75': 0.0}
    path = folder / 'metrics.json'
    path.write_text(json.dumps(dict(metrics=metrics, train_seed=seed)))
    return str(path)


def test_summary_and_comparison(tmp_path):
    runs = [write_run(tmp_path / f's{i}', i, b, s)
            for i, (b, s) in enumerate([(0.1, 0.05), (0.2, 0.10), (0.3, 0.15)])]
    summary = summarize_runs(runs)
    bbox = summary['metrics']['coco/bbox_mAP']
    assert bbox['mean'] == pytest.approx(0.2) and bbox['std'] == pytest.approx(0.1)
    assert (bbox['min'], bbox['max']) == (0.1, 0.3)
    assert [r['train_seed'] for r in summary['runs']] == [0, 1, 2]
    inside = compare_to_summary(runs[1], summary)
    assert 'this run 0.200' in inside[0] and 'outside' not in inside[0]
    outside = compare_to_summary(write_run(tmp_path / 'new', 5, 0.5, 0.1), summary)
    assert 'outside the published range' in outside[0]


def test_bad_inputs(tmp_path):
    (tmp_path / 'x.json').write_text('{"metrics": {}}')
    with pytest.raises(UserError, match='not the metrics.json of a tools/test.py run'):
        summarize_runs([str(tmp_path / 'x.json'), str(tmp_path / 'x.json')])
    with pytest.raises(UserError, match='at least two'):
        summarize_runs([write_run(tmp_path / 'one', 0, 0.1, 0.1)])


def test_tool_writes_and_compares(tmp_path):
    runs = [write_run(tmp_path / f's{i}', i, 0.1 * (i + 1), 0.05) for i in range(2)]
    out = tmp_path / 'seeds.json'
    tool = [sys.executable, str(ROOT / 'tools' / 'summarize_seeds.py')]
    proc = subprocess.run([*tool, *runs, '--out', str(out)], capture_output=True, text=True)
    assert proc.returncode == 0 and 'coco/bbox_mAP' in proc.stdout, proc.stderr
    proc = subprocess.run([*tool, runs[0], '--against', str(out)], capture_output=True,
                          text=True)
    assert proc.returncode == 0 and 'published over 2 seeds' in proc.stdout, proc.stderr
    proc = subprocess.run([*tool, runs[0], '--against', str(tmp_path / 'no.json')],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and proc.stderr.startswith('error: --against')
