"""Time to accuracy: a system trained for a wall-clock budget, its snapshots scored (both
systems by the same COCOeval code), seeds summarised per time mark."""
import copy
import json
from typing import Any, Dict, Iterator, List, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config

from pennfudan_vit.config import pipeline_size
from pennfudan_vit.deploy.outputs import coco_results
from pennfudan_vit.detector import instances_to_numpy, load_weights
from pennfudan_vit.errors import UserError
from pennfudan_vit.evaluation import bootstrap_coco_metrics

from .budget import MODELS, train_for_budget
from .seed_stats import spread
from .step_bench import environment

SERIES = {f'{iou}_{metric}': (iou, metric) for iou in ('bbox', 'segm') for metric in ('AP', 'AP50')}


def _predictions(model: torch.nn.Module, system: str, data: dict) -> Iterator[Tuple[int, dict]]:
    if system == 'ours':
        for sample in model.test_step(data):
            yield sample.img_id, instances_to_numpy(sample.pred_instances)
        return
    # the original image: torchvision's transform resizes it to the test size as mmdet's
    # keep-ratio Resize does, and pastes boxes and masks back at the original size
    import mmcv
    for sample in data['data_samples']:
        rgb = np.ascontiguousarray(mmcv.imread(sample.img_path, channel_order='rgb'))
        out = model.net([torch.from_numpy(rgb).permute(2, 0, 1).float() / 255])[0]
        yield sample.img_id, dict(boxes=out['boxes'].numpy(), scores=out['scores'].numpy(),
                                  labels=out['labels'].numpy() - 1,
                                  masks=(out['masks'][:, 0] > 0.5).numpy())


def score_snapshot(cfg: Config, system: str, path: str, split: str = 'test',
                   n_boot: int = 1000) -> Dict[str, Any]:
    """bbox and segm AP / AP50 / AP75 (point and 95% bootstrap interval) of one snapshot."""
    from mmengine.runner import Runner
    model = MODELS[system](cfg)
    load_weights(model, path, cfg.filename if system == 'ours' else 'the torchvision reference')
    loader = Runner.build_dataloader(dict(copy.deepcopy(cfg[f'{split}_dataloader']),
                                          num_workers=0, persistent_workers=False, batch_size=1))
    dets: Dict[str, list] = dict(bbox=[], segm=[])
    with torch.inference_mode():
        for data in loader:
            for img_id, pred in _predictions(model.eval(), system, data):
                for iou_type, entries in zip(dets, coco_results(img_id, pred,
                                                                loader.dataset.cat_ids)):
                    dets[iou_type] += entries
    out: Dict[str, Any] = dict(detections=len(dets['bbox']))
    for iou_type, entries in dets.items():
        res = bootstrap_coco_metrics(cfg[f'{split}_evaluator'].ann_file, entries, iou_type,
                                     n=n_boot)
        out[iou_type] = {name: dict(point=m.point, lower=m.lower, upper=m.upper)
                         for name, m in res.metrics.items()}
    return out


def run_time_to_accuracy(cfg: Config, system: str, marks: Sequence[float], out_dir: str,
                         warmup_s: float, seed: int, split: str = 'test') -> Dict[str, Any]:
    """Train ``system`` until the last mark, then score every snapshot on ``split``."""
    record = dict(system=system, seed=seed, split=split, marks_s=sorted(marks), recipe='config',
                  warmup_s=warmup_s, batch_size=cfg.train_dataloader.batch_size,
                  input_size=pipeline_size(cfg, 'train_dataloader'), config=cfg.filename,
                  threads=torch.get_num_threads(), environment=environment('cpu'), points=[])
    for snap in train_for_budget(cfg, system, marks, out_dir, warmup_s, seed):
        point = dict(snap, **score_snapshot(cfg, system, snap['path'], split))
        record['points'].append(point)
        print(f'[time-to-accuracy] {system} seed {seed} {snap["mark_s"]:.0f} s ({snap["iters"]} '
              f'iters, {snap["images"]} images): bbox AP {point["bbox"]["AP"]["point"]:.3f} '
              f'segm AP {point["segm"]["AP"]["point"]:.3f}', flush=True)
    return record


def read_records(paths: Sequence[str]) -> List[Dict[str, Any]]:
    """The run records at ``paths`` (JSON written by ``tools/time_to_accuracy.py run``)."""
    records = []
    for path in paths:
        try:
            with open(path) as f:
                records.append(json.load(f))
        except (OSError, ValueError) as err:
            raise UserError(f'run record {path} cannot be read: {err}') from None
        if not isinstance(records[-1], dict) or records[-1].get('system') not in MODELS \
                or 'points' not in records[-1]:
            raise UserError(f'{path} is not a time-to-accuracy run record')
    return records


def run_label(record: Dict[str, Any]) -> str:
    """A run's curve: its ``label``, else its system (and early records' recipe)."""
    recipe = record.get('recipe', 'config')
    return record.get('label') or record['system'] + ('' if recipe == 'config' else f'-{recipe}')


def tta_summary(records: Sequence[Dict[str, Any]], ours: str = 'ours') -> Dict[str, Any]:
    """Per curve and mark the seed :func:`spread` of each AP, and ours / others' means."""
    splits, labels = {r['split'] for r in records}, {run_label(r) for r in records}
    if len(splits) != 1:
        raise UserError(f'the runs were scored on different splits ({", ".join(sorted(splits))})')
    if ours not in labels:
        raise UserError(f'no runs labelled {ours!r} among {", ".join(sorted(labels))}')
    out: Dict[str, Any] = dict(split=splits.pop(), ours=ours, systems={}, ratio={})
    for label in sorted(labels, key=lambda k: (k != ours, k)):
        runs = [r for r in records if run_label(r) == label]
        if len({r['config'] for r in runs}) > 1:
            raise UserError(f'{label} runs come from different configs')
        rows = {}
        for mark in sorted({p['mark_s'] for r in runs for p in r['points']}):
            pts = [p for r in runs for p in r['points'] if p['mark_s'] == mark]
            rows[str(int(mark))] = dict(
                seeds=len(pts), iters=float(np.mean([p['iters'] for p in pts])),
                images=float(np.mean([p['images'] for p in pts])),
                **{s: spread([p[i][m]['point'] for p in pts]) for s, (i, m) in SERIES.items()})
        out['systems'][label] = dict(seeds=sorted(r['seed'] for r in runs), marks=rows,
                                     config=runs[0]['config'], batch_size=runs[0]['batch_size'],
                                     threads=runs[0]['threads'])
    mine = out['systems'][ours]['marks']
    for label, data in list(out['systems'].items())[1:]:
        out['ratio'][label] = {mark: {s: mine[mark][s]['mean'] / data['marks'][mark][s]['mean']
                                      if data['marks'][mark][s]['mean'] > 0 else None
                                      for s in SERIES}
                               for mark in sorted(set(mine) & set(data['marks']), key=int)}
    return out


def format_tta_summary(summary: Dict[str, Any]) -> str:
    """A text table: mean +- std [min, max] per curve and mark, and ours / each other."""
    lines = [f'{"curve":<22} min  seeds  iters  images  {"bbox AP":<27}{"segm AP":<27}'
             f'{summary["ours"]}/this bbox  segm']
    for label, data in summary['systems'].items():
        for mark, row in data['marks'].items():
            ratio = summary['ratio'].get(label, {}).get(mark, {})
            lines.append(f'{label:<22} {int(mark) / 60:>4.1f} {row["seeds"]:>6} '
                         f'{row["iters"]:>6.0f} {row["images"]:>7.0f}' + ''.join(
                             f'  {s["mean"]:.3f} +- {s["std"]:.3f} [{s["min"]:.3f}, '
                             f'{s["max"]:.3f}]' for s in (row['bbox_AP'], row['segm_AP']))
                         + ''.join('  n/a' if ratio[s] is None else f'  {ratio[s]:.2f}x'
                                   for s in ('bbox_AP', 'segm_AP') if s in ratio))
    return '\n'.join(lines)


def plot_tta_summary(out: str, summary: Dict[str, Any]) -> str:
    """bbox and segm AP against training minutes per curve: the seed mean and its range."""
    import matplotlib.pyplot as plt
    plt.switch_backend('Agg')
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, series, title in zip(axes, ('bbox_AP', 'segm_AP'), ('box AP', 'mask AP')):
        for label, data in summary['systems'].items():   # each curve the next colour
            rows = [data['marks'][m][series] for m in sorted(data['marks'], key=int)]
            x = [0] + [int(m) / 60 for m in sorted(data['marks'], key=int)]
            line, = ax.plot(x, [0] + [r['mean'] for r in rows], marker='o',
                            label=f'{label}, {len(data["seeds"])} seeds')
            ax.fill_between(x, [0] + [r['min'] for r in rows], [0] + [r['max'] for r in rows],
                            color=line.get_color(), alpha=0.2, linewidth=0)
        ax.set(title=f'{summary["split"]} {title} (COCOeval) vs training time',
               xlabel='training minutes', ylabel='AP @[.5:.95]')
        ax.grid(alpha=0.3)
    axes[0].legend(loc='upper left')
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out
