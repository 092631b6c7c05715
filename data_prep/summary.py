"""Plain-text summary table of a converted dataset."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .pennfudan import ImageRecord

HEADER = ('split', 'source', 'images', 'instances', 'kept', 'ignored',
          'inst/img min/med/max', 'box w min/med/max', 'box h min/med/max')


def _min_med_max(values: Sequence[float]) -> str:
    if len(values) == 0:
        return '-'
    return '/'.join(f'{v:g}' for v in (np.min(values), np.median(values),
                                       np.max(values)))


def _row(split: str, source: str, records: Sequence[ImageRecord],
         crowd_added: bool) -> tuple[str, ...]:
    instances = [inst for r in records for inst in r.instances]
    ignored = sum(crowd_added and inst.added for inst in instances)
    return (split, source, str(len(records)), str(len(instances)),
            str(len(instances) - ignored), str(ignored),
            _min_med_max([len(r.instances) for r in records]),
            _min_med_max([inst.bbox[2] for inst in instances]),
            _min_med_max([inst.bbox[3] for inst in instances]))


def format_summary(splits: Mapping[str, Sequence[ImageRecord]],
                   crowd_added: bool) -> str:
    """Tabulate images, instances (kept / ignored) and sizes.

    One row per split and source, plus a row per split over all sources.
    ``ignored`` counts instances written with ``iscrowd=1``.
    """
    sources = sorted({r.source for rs in splits.values() for r in rs})
    rows = [HEADER]
    for split, records in splits.items():
        for source in sources:
            rows.append(
                _row(split, source, [r for r in records if r.source == source],
                     crowd_added))
        rows.append(_row(split, 'all', records, crowd_added))
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = [
        '  '.join(
            cell.ljust(w) if i < 2 else cell.rjust(w)
            for i, (cell, w) in enumerate(zip(row, widths))) for row in rows
    ]
    lines.insert(1, '-' * len(lines[0]))
    return '\n'.join(lines)
