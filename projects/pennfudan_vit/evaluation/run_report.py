"""The ``metrics.json`` of a test run: COCOeval stats plus bootstrap intervals."""
import os.path as osp
from typing import Dict, List, Tuple

from ..fileio import atomic_write_json
from .inputs import IOU_TYPES
from .report import bootstrap_report


def write_test_report(path: str, metrics: Dict[str, float], ann_file: str, prefix: str,
                      n: int = 1000, seed: int = 0, **info: str) -> Tuple[str, List[str]]:
    """Write the test report to ``path``; return it and the printable tables."""
    files = {t: f'{prefix}.{t}.json' for t in IOU_TYPES if osp.isfile(f'{prefix}.{t}.json')}
    report = dict(info, metrics={k: float(v) for k, v in metrics.items()}, result_files=files)
    tables: List[str] = []
    if n > 0 and files:
        report['bootstrap'], tables = bootstrap_report(ann_file, files, n=n, seed=seed)
    return atomic_write_json(path, report), tables
