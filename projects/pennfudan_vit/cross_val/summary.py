"""Aggregating the folds: mean and sample std per metric, the table, the summary files."""
import os.path as osp
import statistics
from typing import Any, Dict, List, Optional, Sequence

from ..fileio import atomic_write_json, atomic_write_text

TABLE_METRICS = (('coco/bbox_mAP', 'bbox mAP'), ('coco/bbox_mAP_50', 'bbox AP50'),
                 ('coco/segm_mAP', 'segm mAP'), ('coco/segm_mAP_50', 'segm AP50'))


def aggregate(values: Sequence[Optional[float]]) -> Dict[str, Optional[float]]:
    """Mean and sample std (ddof=1) over folds; COCO's -1 (undefined) is left out."""
    defined = [v for v in values if v is not None and v >= 0]
    return dict(mean=statistics.fmean(defined) if defined else None,
                std=statistics.stdev(defined) if len(defined) > 1 else None)


def summarize_split(results: List[Dict[str, Any]], split: str, n_key: str) -> Dict[str, Any]:
    """Per-fold rows and mean / std of every metric all folds report on ``split``."""
    keys = sorted(set.intersection(*(set(r[split]['metrics']) for r in results)))
    stats = {key: aggregate([r[split]['metrics'][key] for r in results]) for key in keys}
    return dict(
        per_fold=[dict(fold=r['fold'], n_train=r['n_train'], n_eval=r[n_key],
                       checkpoint=r['checkpoint'], metrics_file=r[split]['metrics_file'],
                       metrics=r[split]['metrics']) for r in results],
        mean={k: v['mean'] for k, v in stats.items()},
        std={k: v['std'] for k, v in stats.items()})


def _fmt(x: Optional[float]) -> str:
    return 'n/a' if x is None else f'{x:.3f}'


def format_table(summary: Dict[str, Any]) -> str:
    """Markdown table: one row per fold, then mean ± std."""
    rows = [['fold', 'train imgs', 'eval imgs'] + [name for _, name in TABLE_METRICS]]
    rows += [[str(r['fold']), str(r['n_train']), str(r['n_eval'])] +
             [_fmt(r['metrics'].get(key)) for key, _ in TABLE_METRICS]
             for r in summary['per_fold']]
    rows.append(['mean ± std', '', ''] + [
        f'{_fmt(summary["mean"].get(key))} ± {_fmt(summary["std"].get(key))}'
        for key, _ in TABLE_METRICS])
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = ['| ' + ' | '.join(c.rjust(w) for c, w in zip(row, widths)) + ' |' for row in rows]
    return '\n'.join(lines[:1] + ['|' + '|'.join('-' * (w + 1) + ':' for w in widths) + '|']
                     + lines[1:])


def write_summary(cv: Any, results: List[Dict[str, Any]]) -> str:
    """Write ``W/cv_summary.json`` and ``W/cv_summary.md`` for a
    :class:`~pennfudan_vit.cross_val.run.CrossVal`; return the markdown."""
    seed = (cv.cfg.get('randomness') or {}).get('seed')
    summary: Dict[str, Any] = dict(
        config=cv.config, folds=cv.folds, data_root=cv.data_root, seed=seed,
        split_seed=cv.split.seed, checkpoint='last', cfg_options=cv.options,
        std='sample standard deviation over folds (ddof=1); COCO -1 values left out',
        heldout=summarize_split(results, 'heldout', 'n_heldout'))
    md = [f'# Cross-validation: {osp.basename(cv.config)}', '', f'- config: `{cv.config}`',
          f'- data root: `{cv.data_root}`, {cv.folds} folds (split seed {cv.split.seed})',
          f'- training seed: {seed}, checkpoint: last, cfg-options: '
          f'`{" ".join(f"{k}={v}" for k, v in cv.options.items()) or "none"}`', '',
          '## Each fold model on its held-out fold', '', format_table(summary['heldout']), '']
    if cv.also_test:
        summary['test_split'] = summarize_split(results, 'test_split', 'n_test')
        md += [f'## Every fold model on the test split ({cv.split.n_test} images)', '',
               format_table(summary['test_split']), '']
    md += [f'mean ± sample std (ddof=1) over the {cv.folds} folds; COCOeval runs once over '
           'each evaluated split.']
    text = '\n'.join(md) + '\n'
    atomic_write_json(osp.join(cv.work_dir, 'cv_summary.json'), summary)
    atomic_write_text(osp.join(cv.work_dir, 'cv_summary.md'), text)
    return text
