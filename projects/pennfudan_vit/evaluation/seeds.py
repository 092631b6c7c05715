"""Training-seed spread: several test runs of one recipe summarised, and one run
placed against that summary (numpy only)."""
import json
import statistics
from typing import Dict, List, Sequence

from ..errors import UserError

SEED_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def read_test_metrics(path: str) -> dict:
    """The ``metrics.json`` a ``tools/test.py`` run wrote."""
    try:
        with open(path) as f:
            report = json.load(f)
        return dict(report, metrics={k: float(report['metrics'][k]) for k in SEED_METRICS})
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f'{path} is not the metrics.json of a tools/test.py run '
                        f'({type(err).__name__}: {err})') from None


def summarize_runs(paths: Sequence[str]) -> dict:
    """Mean, sample std, min and max of each metric over the runs of ``paths``."""
    runs = [read_test_metrics(p) for p in paths]
    if len(runs) < 2:
        raise UserError('a seed summary needs at least two test runs')
    summary: Dict[str, Dict[str, float]] = {}
    for key in SEED_METRICS:
        values = [r['metrics'][key] for r in runs]
        summary[key] = dict(mean=statistics.mean(values), std=statistics.stdev(values),
                            min=min(values), max=max(values))
    return dict(metrics=summary, runs=[dict(file=p, train_seed=r.get('train_seed'),
                                            metrics=r['metrics']) for p, r in zip(paths, runs)])


def format_summary(summary: dict) -> str:
    """A table: one row per metric, then the runs."""
    n = len(summary['runs'])
    lines = [f'{"metric":<18}{"mean":>7}{"std":>7}{"min":>7}{"max":>7}   ({n} runs)']
    for key, s in summary['metrics'].items():
        lines.append(f'{key:<18}{s["mean"]:>7.3f}{s["std"]:>7.3f}{s["min"]:>7.3f}'
                     f'{s["max"]:>7.3f}')
    for run in summary['runs']:
        lines.append(f'  seed {run["train_seed"]}: ' + ', '.join(
            f'{k.split("/")[1]} {v:.3f}' for k, v in run['metrics'].items()) + f'  ({run["file"]})')
    return '\n'.join(lines)


def compare_to_summary(path: str, summary: dict) -> List[str]:
    """Lines placing the run of ``path`` against a published seed summary."""
    run = read_test_metrics(path)['metrics']
    n = len(summary['runs'])
    lines = []
    for key, s in summary['metrics'].items():
        inside = s['min'] <= run[key] <= s['max']
        lines.append(f'{key:<18} this run {run[key]:.3f}   published over {n} seeds: '
                     f'{s["mean"]:.3f} ± {s["std"]:.3f} [{s["min"]:.3f}, {s["max"]:.3f}]'
                     f'{"" if inside else "   (outside the published range)"}')
    return lines
