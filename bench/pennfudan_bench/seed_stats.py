"""Training-seed spread of a recipe's test runs, grouped by the machine each ran on and
pooled, with the 95% prediction interval a new run should land in (torch-free)."""
import json
import math
import statistics
from typing import Any, Dict, List, Optional, Sequence

from pennfudan_vit.errors import UserError

SEED_METRICS = ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50')
NOT_RECORDED = 'not recorded'
CONFIDENCE = 0.95
# Student's t, two-sided 95% (the 0.975 quantile), for 1..30 degrees of freedom
T_975 = (12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
         2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
         2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423)
Z_975 = 1.959964


def t_975(df: int) -> float:
    """The 0.975 quantile of Student's t with ``df`` degrees of freedom: the table up to
    30, beyond it the Cornish-Fisher expansion around the normal quantile (error < 1e-4)."""
    if df < 1:
        raise ValueError(f'Student t needs at least one degree of freedom, got {df}')
    if df <= len(T_975):
        return T_975[df - 1]
    z = Z_975
    return (z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df ** 2)
            + (3 * z ** 7 + 19 * z ** 5 + 17 * z ** 3 - 15 * z) / (384 * df ** 3))


def prediction_interval(values: Sequence[float]) -> List[float]:
    """Where one new run of the same process falls with 95% probability, if the runs are
    normal around a common mean: mean ± t(n-1) * s * sqrt(1 + 1/n). Wider than min-max
    for few runs, as it should be: three seeds say little about the tails."""
    n, mean, s = len(values), statistics.mean(values), statistics.stdev(values)
    half = t_975(n - 1) * s * math.sqrt(1 + 1 / n)
    return [mean - half, mean + half]


def cpu_name(value: Any) -> Optional[str]:
    """The CPU model in a record's ``machine`` or ``environment`` field: a string, or a
    dict holding it as ``model`` (``hardware.cpu_info()``), ``device_name`` (the harness'
    environment) or under ``machine`` / ``cpu``."""
    if isinstance(value, str):
        return value.strip() or None
    if isinstance(value, dict):
        for key in ('model', 'device_name', 'machine', 'cpu'):
            name = cpu_name(value.get(key))
            if name:
                return name
    return None


def read_test_metrics(path: str) -> Dict[str, Any]:
    """The ``metrics.json`` a ``tools/test.py`` run wrote, with the seed metrics as floats
    and ``machine`` (its CPU model, or None when the record holds none)."""
    try:
        with open(path) as f:
            report = json.load(f)
        metrics = {k: float(report['metrics'][k]) for k in SEED_METRICS}
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise UserError(f'{path} is not the metrics.json of a tools/test.py run '
                        f'({type(err).__name__}: {err})') from None
    machine = cpu_name(report.get('machine')) or cpu_name(report.get('environment'))
    return dict(report, metrics=metrics, machine=machine)


def spread(values: Sequence[float]) -> Dict[str, float]:
    """Mean, sample std (0 for one value), min and max of ``values`` over seeds."""
    return dict(mean=statistics.mean(values), min=min(values), max=max(values),
                std=statistics.stdev(values) if len(values) > 1 else 0.0)


def machines_of(paths: Sequence[str], runs: Sequence[Dict[str, Any]],
                given: Sequence[str] = ()) -> List[str]:
    """Each run's machine: its record's own, else ``given`` (one for all runs, or one per
    run in order), else 'not recorded'. A given name contradicting a record is an error."""
    if len(given) not in (0, 1, len(runs)):
        raise UserError(f'--machine: give it once (for every run) or once per metrics file '
                        f'({len(runs)}), not {len(given)} times')
    given = list(given) * len(runs) if len(given) == 1 else list(given) or [None] * len(runs)
    machines = []
    for path, run, name in zip(paths, runs, given):
        if run['machine'] and name and name != run['machine']:
            raise UserError(f'{path} records machine {run["machine"]!r}, --machine says '
                            f'{name!r}: leave --machine out for that file')
        machines.append(run['machine'] or name or NOT_RECORDED)
    return machines


def seed_summary(paths: Sequence[str], machines: Sequence[str] = ()) -> Dict[str, Any]:
    """Per metric over all test runs of ``paths``: :func:`spread`, ``n`` and the 95%
    ``prediction_interval`` of one new run; the same spread per machine; the runs."""
    runs = [read_test_metrics(p) for p in paths]
    if len(runs) < 2:
        raise UserError('a seed summary needs at least two test runs')
    names = machines_of(paths, runs, machines)

    def over(selected):
        return {key: spread([r['metrics'][key] for r in selected]) for key in SEED_METRICS}

    metrics = over(runs)
    for key, s in metrics.items():
        s.update(n=len(runs), prediction_interval=prediction_interval(
            [r['metrics'][key] for r in runs]))
    by_machine = {}
    for name in dict.fromkeys(names):
        selected = [r for r, m in zip(runs, names) if m == name]
        by_machine[name] = dict(runs=len(selected), metrics=over(selected))
    return dict(metrics=metrics, confidence=CONFIDENCE, machines=by_machine,
                runs=[dict(file=p, train_seed=r.get('train_seed'), machine=m,
                           metrics=r['metrics']) for p, r, m in zip(paths, runs, names)])


def _figures(metrics: Dict[str, Any]) -> str:
    """``bbox_mAP 0.320, ...`` of one run, or ``bbox_mAP 0.322 ± 0.010, ...`` of spreads."""
    return ', '.join(f'{k.split("/")[1]} ' + (f'{v["mean"]:.3f} ± {v["std"]:.3f}'
                                              if isinstance(v, dict) else f'{v:.3f}')
                     for k, v in metrics.items())


def format_seed_summary(summary: Dict[str, Any]) -> str:
    """A table over all runs (with the prediction interval), then each machine's runs."""
    pct = round(summary['confidence'] * 100)
    lines = [f'{"metric":<18}{"mean":>7}{"std":>7}{"min":>7}{"max":>7}   {pct}% prediction '
             f'interval of a new run   ({len(summary["runs"])} runs, '
             f'machines: {len(summary["machines"])})']
    lines += [f'{key:<18}{s["mean"]:>7.3f}{s["std"]:>7.3f}{s["min"]:>7.3f}{s["max"]:>7.3f}'
              f'   [{s["prediction_interval"][0]:.3f}, {s["prediction_interval"][1]:.3f}]'
              for key, s in summary['metrics'].items()]
    for name, group in summary['machines'].items():
        lines.append(f'{name} ({group["runs"]} runs): {_figures(group["metrics"])}')
        lines += [f'  seed {run["train_seed"]}: {_figures(run["metrics"])}  ({run["file"]})'
                  for run in summary['runs'] if run['machine'] == name]
    return '\n'.join(lines)


def compare_to_summary(path: str, summary: Dict[str, Any], source: str = 'summary') -> List[str]:
    """Lines placing the run of ``path`` against the prediction intervals of a published
    summary (read from ``source``), and naming the machines its runs came from."""
    run = read_test_metrics(path)
    try:
        n, pct = len(summary['runs']), round(summary['confidence'] * 100)
        intervals = {key: summary['metrics'][key]['prediction_interval'] for key in SEED_METRICS}
        machines = ', '.join(f'{name} ({g["runs"]})' for name, g in summary['machines'].items())
    except (KeyError, TypeError) as err:
        raise UserError(f'{source} is not a seed summary with prediction intervals (no {err}): '
                        'make it with tools/summarize_seeds.py METRICS... --out FILE') from None
    here = run['machine'] or NOT_RECORDED
    lines = [f'machine of this run: {here}; of the {n} published runs: {machines}']
    for key, (low, high) in intervals.items():
        inside = low <= run['metrics'][key] <= high
        lines.append(f'{key:<18} this run {run["metrics"][key]:.3f}   '
                     f'{"inside" if inside else "OUTSIDE"} the {pct}% prediction interval '
                     f'[{low:.3f}, {high:.3f}] (mean {summary["metrics"][key]["mean"]:.3f})')
    return lines
