from .config_loading import (TOOL_ERRORS, add_config_args, build_runner,
                             default_work_dir, load_config)
from .config_checks import (ConfigCheckError, check_dataset_files, leaf_datasets,
                            set_data_root, validate_cfg_options)
from .work_dir import atomic_write_json, guard_work_dir

__all__ = [
    'TOOL_ERRORS', 'add_config_args', 'build_runner', 'default_work_dir', 'load_config',
    'ConfigCheckError', 'atomic_write_json', 'check_dataset_files', 'guard_work_dir',
    'leaf_datasets',
    'set_data_root', 'validate_cfg_options'
]
