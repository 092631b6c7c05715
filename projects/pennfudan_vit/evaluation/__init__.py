"""Honest COCO evaluation: one COCOeval pass, bootstrap CIs over test images.

Only numpy and pycocotools are imported, so this package loads without torch.
"""
from .bootstrap import METRICS, BootstrapResult, bootstrap_coco_metrics, bootstrap_from_eval
from .inputs import IOU_TYPES
from .paired import PairedBootstrapResult, paired_diff_from_evals
from .per_image import PerImageEval, evaluate_per_image
from .protocols import (PROTOCOL_HELP, BatchMeanResult, Protocol, batch_mean_from_eval,
                        parse_protocol)
from .report import bootstrap_report

__all__ = [
    'IOU_TYPES', 'METRICS', 'PROTOCOL_HELP', 'BatchMeanResult', 'BootstrapResult',
    'PairedBootstrapResult', 'PerImageEval', 'Protocol', 'batch_mean_from_eval',
    'bootstrap_coco_metrics', 'bootstrap_from_eval', 'bootstrap_report', 'evaluate_per_image',
    'paired_diff_from_evals', 'parse_protocol'
]
