"""Plain-text table of a converted dataset: images, instances and box sizes."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .coco import ImageRecord
from .pennfudan import collection_of

HEADER = ('split', 'collection', 'images', 'instances', 'kept', 'ignored',
          'inst/img min/med/max', 'box w min/med/max', 'box h min/med/max')


def _row(split: str, collection: str, records: Sequence[ImageRecord],
         crowd_added: bool) -> tuple[str, ...]:
    instances = [inst for r in records for inst in r.instances]
    ignored = sum(crowd_added and inst.added for inst in instances)
    stats = [[len(r.instances) for r in records], [i.bbox[2] for i in instances],
             [i.bbox[3] for i in instances]]
    return (split, collection, str(len(records)), str(len(instances)),
            str(len(instances) - ignored), str(ignored),
            *('/'.join(f'{f(v):g}' for f in (np.min, np.median, np.max)) if v else '-'
              for v in stats))


def format_dataset_table(splits: Mapping[str, Sequence[ImageRecord]], crowd_added: bool) -> str:
    """One row per split and collection and one per split; ``ignored`` = ``iscrowd=1``."""
    collections = sorted({collection_of(r.file_name) for rs in splits.values() for r in rs})
    rows = [HEADER]
    for split, records in splits.items():
        rows += [_row(split, c, [r for r in records if c in ('all', collection_of(r.file_name))],
                      crowd_added) for c in (*collections, 'all')]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    lines = ['  '.join(cell.ljust(w) if i < 2 else cell.rjust(w)
                       for i, (cell, w) in enumerate(zip(row, widths))) for row in rows]
    return '\n'.join([lines[0], '-' * len(lines[0]), *lines[1:]])
