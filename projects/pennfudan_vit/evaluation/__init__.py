"""Honest COCO evaluation: one COCOeval pass, bootstrap CIs over test images.

Only numpy and pycocotools are imported, so this package loads without torch.
"""
from .bootstrap import (METRICS, BootstrapResult, MetricCI, bootstrap_coco_metrics,
                        bootstrap_from_eval, draw_samples)
from .detections import load_results
from .ground_truth import load_gt
from .inputs import IOU_TYPES, EvalInputError
from .paired import (DiffCI, PairedBootstrapResult, paired_bootstrap_diff,
                     paired_diff_from_evals)
from .per_image import PerImageEval, evaluate_per_image
from .protocols import (PROTOCOL_HELP, BatchMeanResult, Protocol, batch_mean_from_eval,
                        parse_protocol)
from .report import bootstrap_report

__all__ = [
    'IOU_TYPES', 'METRICS', 'PROTOCOL_HELP', 'BatchMeanResult', 'BootstrapResult', 'DiffCI',
    'EvalInputError', 'MetricCI', 'PairedBootstrapResult', 'PerImageEval', 'Protocol',
    'batch_mean_from_eval', 'bootstrap_coco_metrics', 'bootstrap_from_eval',
    'bootstrap_report', 'draw_samples', 'evaluate_per_image', 'load_gt', 'load_results',
    'paired_bootstrap_diff', 'paired_diff_from_evals', 'parse_protocol'
]
