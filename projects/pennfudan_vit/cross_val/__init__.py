"""K-fold cross-validation over the converter's fold files (``tools/cross_val.py``)."""
from .checkpoints import last_checkpoint, pick_checkpoint, training_finished
from .fold_configs import fold_config_text, fold_configs, managed_keys, test_split_config_text
from .folds import TEST_ANN, FoldSplit, check_folds, fold_ann
from .plan import CrossVal, parse_options, plan_of, prepare, start
from .steps import evaluate, launch_cmd, run_fold, run_step
from .summary import aggregate, format_table, summarize_split, write_summary

__all__ = [
    'TEST_ANN', 'CrossVal', 'FoldSplit', 'aggregate', 'check_folds', 'evaluate', 'fold_ann',
    'fold_config_text', 'fold_configs', 'format_table', 'last_checkpoint', 'launch_cmd',
    'managed_keys', 'parse_options', 'pick_checkpoint', 'plan_of', 'prepare',
    'run_fold', 'run_step', 'start', 'summarize_split', 'test_split_config_text',
    'training_finished', 'write_summary'
]
