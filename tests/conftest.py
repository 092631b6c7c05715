"""Shared pytest fixtures: repo paths, registered modules, converted data, a tiny trained
model."""
import logging
import os
import sys
from pathlib import Path

import pytest
import torch

from helpers import CPU_CONFIG, TINY_OPTIONS, TINY_SIZE, tool_main

ROOT = Path(__file__).resolve().parents[1]
# Where the tests look for Penn-Fudan when $PENNFUDAN_SRC is not set.
REPO_DATA = (ROOT / 'data' / 'PennFudanPed', ROOT / 'data' / 'PennFudanPed.zip')



@pytest.fixture(scope='session', autouse=True)
def _registered():
    """Register mmdet + plugin modules once, with mmdet as the default scope."""
    pytest.importorskip('mmdet')
    import pennfudan_vit.engine  # noqa: F401
    import pennfudan_vit.models  # noqa: F401
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)


@pytest.fixture(scope='session', autouse=True)
def _config_text_once():
    """Format each distinct config once per session. mmengine's ``Config.pretty_text`` runs
    yapf (about 0.2-0.6 s a call here), and a Runner asks for it at start, for the dumped
    config and in every checkpoint: the in-process tool runs here would spend about a
    minute on the same few texts. The cache is keyed by the config's content."""
    import pickle

    from mmengine.config import Config
    prop, texts = Config.__dict__['pretty_text'], {}

    def pretty_text(cfg):
        try:
            key = pickle.dumps((cfg._cfg_dict.to_dict(), cfg._format_python_code))
        except Exception:  # a value pickle cannot take: no cache
            return prop.fget(cfg)
        if key not in texts:
            texts[key] = prop.fget(cfg)
        return texts[key]

    Config.pretty_text = property(pretty_text)
    yield
    Config.pretty_text = prop


@pytest.fixture(autouse=True)
def _mmdet_scope():
    """Each test starts in mmdet's scope (a Runner elsewhere may have switched it)."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmdet')


@pytest.fixture(autouse=True)
def _runner_state():
    """Undo what an in-process tool leaves behind: torch's deterministic flag (set by
    ``randomness.deterministic``) and thread count (``--threads``), which change floating
    point results, and a Runner's logger writing to this test's captured stdout."""
    before, threads = torch.are_deterministic_algorithms_enabled(), torch.get_num_threads()
    yield
    torch.use_deterministic_algorithms(before)
    torch.set_num_threads(threads)
    from mmengine.logging import MMLogger
    for logger in MMLogger._instance_dict.values():
        for handler in logger.handlers:
            if type(handler) is logging.StreamHandler:
                handler.stream = sys.stdout  # setStream would flush the closed one


@pytest.fixture(scope='session')
def repo_root() -> Path:
    return ROOT


@pytest.fixture(scope='session')
def pennfudan_src() -> Path:
    """The real Penn-Fudan (folder or zip): $PENNFUDAN_SRC, else data/PennFudanPed(.zip)."""
    env = os.environ.get('PENNFUDAN_SRC')
    if env:
        if not Path(env).exists():
            pytest.fail(f'PENNFUDAN_SRC={env} does not exist')
        return Path(env)
    found = [path for path in REPO_DATA if path.exists()]
    if not found:
        pytest.skip('Penn-Fudan not found: set PENNFUDAN_SRC=/path/to/PennFudanPed (or its zip) '
                    'to run the tests that need it')
    return found[0]


@pytest.fixture(scope='session')
def coco_data(tmp_path_factory, pennfudan_src) -> Path:
    """The real Penn-Fudan, converted once for the session."""
    from data_prep.pennfudan_to_coco import main
    out = tmp_path_factory.mktemp('pennfudan')
    assert main(['--src', str(pennfudan_src), '--out', str(out), '--overwrite',
                 '--folds', '2']) == 0
    return out


@pytest.fixture(scope='session')
def tiny_checkpoint(tmp_path_factory, coco_data):
    """epoch_1.pth of a 1-epoch, 128 px run of the CPU config, trained in this process
    (the tool tests and the docs' walkthroughs share it)."""
    work = tmp_path_factory.mktemp('tiny_run')
    before = torch.are_deterministic_algorithms_enabled()
    tool_main('train')([CPU_CONFIG, '--work-dir', str(work), '--data-root', str(coco_data),
                        *TINY_SIZE, '--cfg-options', *TINY_OPTIONS, 'train_cfg.max_epochs=1'])
    torch.use_deterministic_algorithms(before)
    return work / 'epoch_1.pth'
