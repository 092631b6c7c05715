"""Config loading, validation and the edits every tool shares."""
from .edits import (add_tensorboard, drop_pretrained, leaf_datasets, pipeline_size, set_data_root,
                    set_input_size)
from .loading import (add_config_args, default_work_dir, load_config, load_from_args,
                      parse_config_args)
from .validation import check_dataset_files, check_hooks, validate_cfg_options

__all__ = [
    'add_config_args', 'add_tensorboard', 'check_dataset_files', 'check_hooks', 'default_work_dir',
    'drop_pretrained', 'leaf_datasets', 'load_config', 'load_from_args', 'parse_config_args',
    'pipeline_size',
    'set_data_root', 'set_input_size', 'validate_cfg_options'
]
