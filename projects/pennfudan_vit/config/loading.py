"""One way for every tool to turn CONFIG and its flags into a validated Config."""
import argparse
import ast
import os
import os.path as osp
import re
from typing import Any, Dict, Optional, Tuple

from mmengine.config import Config, DictAction

from ..errors import UserError
from .edits import set_data_root, set_input_size
from .validation import check_hooks, check_pyramid, validate_cfg_options


class CfgOptions(DictAction):
    """mmengine's ``KEY=VALUE`` action; a pair without ``=`` is a usage error, not a crash."""

    def __call__(self, parser, namespace, values, option_string=None):
        bad = [v for v in values if '=' not in v]
        if bad:
            parser.error(f'{option_string} {bad[0]}: give KEY=VALUE, e.g. train_cfg.max_epochs=2')
        super().__call__(parser, namespace, values, option_string)


def add_config_args(parser: argparse.ArgumentParser, launcher: bool = True) -> None:
    """The flags every config-based tool takes."""
    parser.add_argument('--data-root', help='converter output to use for every split '
                        '(default: data/pennfudan, or $PENNFUDAN_DATA)')
    parser.add_argument('--cfg-options', nargs='+', action=CfgOptions,
                        help='override config settings, e.g. train_cfg.max_epochs=2; '
                        'keys must exist in the config and values keep their kind')
    parser.add_argument('--input-size', type=int, nargs=2, metavar=('H', 'W'),
                        help='change the input size of every pipeline and of the ViT')
    if launcher:
        parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                            default='none', help='job launcher')
        parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def parse_config_args(parser: argparse.ArgumentParser, argv=None) -> argparse.Namespace:
    """Parse ``argv`` with the flags of :func:`add_config_args`; a launcher's rank goes to
    ``LOCAL_RANK``, where mmengine reads it."""
    args = parser.parse_args(argv)
    os.environ.setdefault('LOCAL_RANK', str(getattr(args, 'local_rank', 0)))
    return args


def load_config(path: str, cfg_options: Optional[Dict[str, Any]] = None,
                data_root: Optional[str] = None) -> Config:
    """Read ``path``, apply validated ``--cfg-options`` and the data root, check hooks."""
    if not osp.isfile(path):
        raise UserError(f'config file {path} does not exist')
    try:
        cfg = Config.fromfile(path)
    except SyntaxError as err:
        bad, err = _file_with_syntax_error(path, err)
        raise UserError(f'config {bad} line {err.lineno}: syntax error: {err.msg}') from None
    validate_cfg_options(cfg, cfg_options)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    if data_root:
        if not osp.isdir(data_root):
            raise UserError(f'--data-root {data_root} is not a folder')
        set_data_root(cfg, data_root)
    check_hooks(cfg)
    check_pyramid(cfg)
    return cfg


def _file_with_syntax_error(path: str, err: SyntaxError) -> Tuple[str, SyntaxError]:
    """mmengine parses without a file name: find which of ``path`` and its bases fails."""
    try:
        text = open(path).read()
        ast.parse(text, filename=path)
    except SyntaxError as own:
        return path, own
    for base in re.findall(r"['\"]([^'\":]+\.py)['\"]", text):
        base = osp.join(osp.dirname(path), base)
        if osp.isfile(base) and base != path:
            found = _file_with_syntax_error(base, err)
            if found[0] != '<unknown>':
                return found
    return (err.filename or '<unknown>'), err


def load_from_args(args: argparse.Namespace) -> Config:
    """:func:`load_config` with the flags of :func:`add_config_args`."""
    cfg = load_config(args.config, args.cfg_options, args.data_root)
    if getattr(args, 'input_size', None):
        set_input_size(cfg, tuple(args.input_size))
    cfg.launcher = getattr(args, 'launcher', 'none')
    return cfg


def default_work_dir(cfg: Config, config: str, work_dir: Optional[str] = None) -> str:
    """``--work-dir``, else the config's ``work_dir``, else ``work_dirs/<config name>``."""
    return work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(config))[0])
