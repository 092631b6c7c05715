"""Work-dir safety: never overwrite an earlier run unless asked to resume."""
import glob
import json
import os
import os.path as osp
import tempfile
from typing import Any

from .config_checks import ConfigCheckError


def guard_work_dir(work_dir: str, resume: bool) -> None:
    """Refuse to start a fresh training run in a work dir that holds checkpoints."""
    ckpts = sorted(glob.glob(osp.join(work_dir, '*.pth')))
    if ckpts and not resume:
        raise ConfigCheckError(
            f'work dir {work_dir} already holds checkpoints of an earlier run '
            f'({osp.basename(ckpts[-1])}, ...); pass --resume to continue it, or '
            f'choose another --work-dir')


def atomic_write_json(path: str, obj: Any) -> None:
    """Write JSON to ``path`` through a temporary file in the same folder."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix='.tmp-', suffix='.json')
    try:
        with os.fdopen(fd, 'w') as f:
            json.dump(obj, f, indent=2, sort_keys=True)
            f.write('\n')
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are for everyone
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise
