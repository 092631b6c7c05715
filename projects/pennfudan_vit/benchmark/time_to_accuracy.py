"""Time-to-accuracy: train a system for a wall-clock budget, score its snapshots, compare seeds."""
import json
import os.path as osp
from typing import Any, Dict, List, Sequence

import numpy as np
import torch
from mmengine.config import Config

from ..config import pipeline_size
from ..errors import UserError
from .budget_train import SYSTEMS, train_ours, train_reference
from .environment import environment
from .snapshot_eval import evaluate_snapshot

TRAINERS = dict(ours=train_ours, reference=train_reference)
SERIES = ('bbox_AP', 'segm_AP', 'bbox_AP50', 'segm_AP50')


def _score(cfg: Config, system: str, seed: int, snapshots: Sequence[Dict[str, Any]],
           split: str) -> List[Dict[str, Any]]:
    points = []
    for snap in snapshots:
        metrics = evaluate_snapshot(cfg, system, snap['path'], split)
        points.append(dict(snap, **metrics))
        print(f'[time-to-accuracy] {system} seed {seed} {snap["mark_s"]:.0f} s '
              f'({snap["iters"]} iters, {snap["images"]} images): '
              f'bbox AP {metrics["bbox"]["AP"]["point"]:.3f} '
              f'segm AP {metrics["segm"]["AP"]["point"]:.3f}', flush=True)
    return points


def run_time_to_accuracy(cfg: Config, system: str, marks: Sequence[float], out_dir: str,
                         warmup_s: float, seed: int, split: str = 'test',
                         recipe: str = 'config') -> Dict[str, Any]:
    """Train ``system`` until the last mark, then score every snapshot on ``split``."""
    if system not in SYSTEMS:
        raise UserError(f'unknown system {system!r}: choose from {", ".join(SYSTEMS)}')
    env = environment('cpu')
    snapshots = TRAINERS[system](cfg, marks, out_dir, warmup_s, seed, recipe)
    points = _score(cfg, system, seed, snapshots, split)
    return dict(system=system, seed=seed, split=split, marks_s=sorted(marks),
                recipe=recipe if system == 'reference' else 'config',
                warmup_s=warmup_s, batch_size=cfg.train_dataloader.batch_size,
                input_size=pipeline_size(cfg, 'train_dataloader'), config=cfg.filename,
                threads=torch.get_num_threads(), environment=env, points=points)


def rescore_record(record: Dict[str, Any], cfg: Config, split: str) -> Dict[str, Any]:
    """``record`` with every snapshot scored again on ``split`` (``cfg`` as in the run)."""
    missing = [p['path'] for p in record['points'] if not osp.isfile(p['path'])]
    if missing:
        raise UserError(f'snapshot {missing[0]} of the run is gone: rescoring needs its weights')
    snapshots = [{k: v for k, v in p.items() if k not in ('bbox', 'segm')}
                 for p in record['points']]
    return dict(record, split=split, rescored_from=record['split'],
                points=_score(cfg, record['system'], record['seed'], snapshots, split))


def _value(point: Dict[str, Any], series: str) -> float:
    iou_type, metric = series.split('_')
    return point[iou_type][metric]['point']


def read_records(paths: Sequence[str]) -> List[Dict[str, Any]]:
    """The run records at ``paths`` (JSON written by ``tools/time_to_accuracy.py run``)."""
    records = []
    for path in paths:
        if not osp.isfile(path):
            raise UserError(f'run record {path} does not exist')
        with open(path) as f:
            try:
                rec = json.load(f)
            except json.JSONDecodeError as err:
                raise UserError(f'{path} is not valid JSON: {err.msg}') from None
        if not isinstance(rec, dict) or rec.get('system') not in SYSTEMS or 'points' not in rec:
            raise UserError(f'{path} is not a time-to-accuracy run record')
        records.append(rec)
    return records


def run_label(record: Dict[str, Any]) -> str:
    """The curve a run belongs to: its ``label`` if given, else its system and the
    reference's recipe when not the config's."""
    if record.get('label'):
        return record['label']
    recipe = record.get('recipe', 'config')
    return record['system'] if recipe == 'config' else f'{record["system"]}-{recipe}'


def summarize(records: Sequence[Dict[str, Any]], ours: str = 'ours') -> Dict[str, Any]:
    """Per curve (:func:`run_label`) and mark: mean, std, min, max over seeds of each AP
    series; and the ratio of the ``ours`` curve's mean to each other curve's."""
    splits = {r['split'] for r in records}
    if len(splits) != 1:
        raise UserError(f'the runs were scored on different splits ({", ".join(sorted(splits))})')
    labels = {run_label(r) for r in records}
    if ours not in labels:
        raise UserError(f'no runs labelled {ours!r} among {", ".join(sorted(labels))}')
    out: Dict[str, Any] = dict(split=splits.pop(), ours=ours, systems={}, ratio={})
    for label in sorted(labels, key=lambda k: (k != ours, k)):
        runs = [r for r in records if run_label(r) == label]
        configs = {r['config'] for r in runs}
        if len(configs) > 1:
            raise UserError(f'{label} runs come from different configs: {sorted(configs)}')
        marks = sorted({p['mark_s'] for r in runs for p in r['points']})
        rows = {}
        for mark in marks:
            pts = [p for r in runs for p in r['points'] if p['mark_s'] == mark]
            row = dict(seeds=len(pts), iters=float(np.mean([p['iters'] for p in pts])),
                       images=float(np.mean([p['images'] for p in pts])))
            for series in SERIES:
                v = np.array([_value(p, series) for p in pts])
                row[series] = dict(mean=float(v.mean()), std=float(v.std(ddof=1)) if
                                   len(v) > 1 else 0.0, min=float(v.min()), max=float(v.max()))
            rows[str(int(mark))] = row
        out['systems'][label] = dict(seeds=sorted(r['seed'] for r in runs),
                                     config=configs.pop(), batch_size=runs[0]['batch_size'],
                                     threads=runs[0]['threads'], marks=rows)
    mine = out['systems'][ours]['marks']
    for label, data in out['systems'].items():
        if label == ours:
            continue
        ref = data['marks']
        out['ratio'][label] = {
            mark: {s: mine[mark][s]['mean'] / ref[mark][s]['mean']
                   if ref[mark][s]['mean'] > 0 else None for s in SERIES}
            for mark in sorted(set(mine) & set(ref), key=int)}
    return out


def format_summary(summary: Dict[str, Any]) -> str:
    """A text table: mean +- std [min, max] per curve and mark, and ours / each reference."""
    lines = [f'{"curve":<22} min  seeds  iters  images  {"bbox AP":<27}{"segm AP":<27}'
             f'{summary.get("ours", "ours")}/this bbox  segm']
    for label, data in summary['systems'].items():
        for mark, row in data['marks'].items():
            cells = []
            for series in ('bbox_AP', 'segm_AP'):
                s = row[series]
                cells.append(f'{s["mean"]:.3f} +- {s["std"]:.3f} [{s["min"]:.3f}, '
                             f'{s["max"]:.3f}]')
            ratio = summary['ratio'].get(label, {}).get(mark)
            tail = ''.join(f'  {r:.2f}x' if r is not None else '  n/a'
                           for r in (ratio['bbox_AP'], ratio['segm_AP'])) if ratio else ''
            lines.append(f'{label:<22} {int(mark) / 60:>4.1f} {row["seeds"]:>6} '
                         f'{row["iters"]:>6.0f} {row["images"]:>7.0f}  {cells[0]}  {cells[1]}'
                         f'{tail}')
    return '\n'.join(lines)
