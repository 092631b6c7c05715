"""Training-seed spread of a recipe's test runs, and a run against it (torch-free)."""
import json
import statistics
from typing import Any, Dict, List, Sequence

from pennfudan_vit.errors import UserError

SEED_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')


def read_test_metrics(path: str) -> Dict[str, Any]:
    """The ``metrics.json`` a ``tools/test.py`` run wrote, with the seed metrics as floats."""
    try:
        with open(path) as f:
            report = json.load(f)
        return dict(report, metrics={k: float(report['metrics'][k]) for k in SEED_METRICS})
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f'{path} is not the metrics.json of a tools/test.py run '
                        f'({type(err).__name__}: {err})') from None


def spread(values: Sequence[float]) -> Dict[str, float]:
    """Mean, sample std (0 for one value), min and max of ``values`` over seeds."""
    return dict(mean=statistics.mean(values), min=min(values), max=max(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0)


def seed_summary(paths: Sequence[str]) -> Dict[str, Any]:
    """:func:`spread` of each metric over the test runs of ``paths``."""
    runs = [read_test_metrics(p) for p in paths]
    if len(runs) < 2:
        raise UserError('a seed summary needs at least two test runs')
    return dict(metrics={key: spread([r['metrics'][key] for r in runs]) for key in SEED_METRICS},
                runs=[dict(file=p, train_seed=r.get('train_seed'), metrics=r['metrics'])
                      for p, r in zip(paths, runs)])


def format_seed_summary(summary: Dict[str, Any]) -> str:
    """A table: one row per metric, then the runs."""
    lines = [f'{"metric":<18}{"mean":>7}{"std":>7}{"min":>7}{"max":>7}   '
             f'({len(summary["runs"])} runs)']
    lines += [f'{key:<18}{s["mean"]:>7.3f}{s["std"]:>7.3f}{s["min"]:>7.3f}{s["max"]:>7.3f}'
              for key, s in summary['metrics'].items()]
    lines += [f'  seed {run["train_seed"]}: ' + ', '.join(
        f'{k.split("/")[1]} {v:.3f}' for k, v in run['metrics'].items()) + f'  ({run["file"]})'
        for run in summary['runs']]
    return '\n'.join(lines)


def compare_to_summary(path: str, summary: Dict[str, Any]) -> List[str]:
    """Lines placing the run of ``path`` against a published seed summary."""
    run, n = read_test_metrics(path)['metrics'], len(summary['runs'])
    return [f'{key:<18} this run {run[key]:.3f}   published over {n} seeds: {s["mean"]:.3f} '
            f'± {s["std"]:.3f} [{s["min"]:.3f}, {s["max"]:.3f}]'
            + ('' if s['min'] <= run[key] <= s['max'] else '   (outside the published range)')
            for key, s in summary['metrics'].items()]
