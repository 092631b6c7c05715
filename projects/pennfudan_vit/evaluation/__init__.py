"""Honest COCO evaluation: one COCOeval pass, bootstrap CIs over test images.

Only numpy and pycocotools are imported, so this package loads without torch.
"""
from .bootstrap import (METRICS, BootstrapResult, DiffCI, EvalInputError,
                        MetricCI, PairedBootstrapResult, PerImageEval,
                        bootstrap_coco_metrics, bootstrap_from_eval,
                        draw_samples, evaluate_per_image, load_gt,
                        load_results, paired_bootstrap_diff,
                        paired_diff_from_evals)

__all__ = [
    'METRICS', 'BootstrapResult', 'DiffCI', 'EvalInputError', 'MetricCI',
    'PairedBootstrapResult', 'PerImageEval', 'bootstrap_coco_metrics',
    'bootstrap_from_eval', 'draw_samples', 'evaluate_per_image', 'load_gt',
    'load_results', 'paired_bootstrap_diff', 'paired_diff_from_evals'
]
