"""Work-dir safety: one training process per folder, no silent overwrite, and
``--resume`` that names what it resumes and skips a damaged checkpoint."""
import errno
import fcntl
import glob
import os
import os.path as osp
import re
import sys
import zipfile
from typing import IO, Dict, List

from ..errors import UserError

_locks: Dict[str, IO] = {}  # work dir -> its locked .lock file, held open


def checkpoints_in(work_dir: str) -> List[str]:
    """Epoch/iteration checkpoints of ``work_dir``, newest first."""
    def number(path: str) -> int:
        found = re.search(r'(\d+)\.pth$', path)
        return int(found.group(1)) if found else -1
    paths = glob.glob(osp.join(work_dir, 'epoch_*.pth')) + glob.glob(
        osp.join(work_dir, 'iter_*.pth'))
    return sorted(paths, key=number, reverse=True)


def is_readable_checkpoint(path: str) -> bool:
    """True if ``path`` is a whole torch zip archive (every member's CRC checks out)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return archive.testzip() is None
    except (OSError, zipfile.BadZipFile, EOFError):
        return False


def resume_checkpoint(work_dir: str) -> str:
    """The newest readable checkpoint in ``work_dir``; damaged ones are skipped with one
    warning line each. mmengine's ``last_checkpoint`` holds an absolute path: only its
    file name counts, so a copied work dir resumes from its own checkpoint."""
    candidates = []
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            candidates.append(osp.join(work_dir, osp.basename(f.read().strip())))
    candidates += [p for p in checkpoints_in(work_dir) if p not in candidates]
    for path in candidates:
        if not osp.isfile(path):
            continue
        if is_readable_checkpoint(path):
            return path
        print(f'warning: --resume skips damaged checkpoint {path}', file=sys.stderr, flush=True)
    raise UserError(f'--resume: no checkpoint to resume from in {work_dir} '
                    f'(start without --resume, or pass --resume PATH/TO/CKPT.pth)')


def guard_work_dir(work_dir: str, resume: bool) -> None:
    """Refuse a fresh run in a work dir that already holds checkpoints."""
    found = checkpoints_in(work_dir)
    if found and not resume:
        raise UserError(f'work dir {work_dir} already holds checkpoints of an earlier run '
                        f'({osp.basename(found[0])}, ...): pass --resume to continue it, '
                        f'or choose another --work-dir')


def lock_work_dir(work_dir: str, user: str = 'a training run') -> None:
    """Hold an exclusive lock on ``work_dir`` until :func:`unlock_work_dir` or exit; a
    second ``user`` (another process) is refused."""
    if int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', 0))) != 0:
        return  # the ranks of one distributed job share the folder
    if osp.abspath(work_dir) in _locks:
        return  # this process holds it (closing a second handle would release it)
    os.makedirs(work_dir, exist_ok=True)
    handle = open(osp.join(work_dir, '.lock'), 'a+')
    try:
        # a POSIX record lock, unlike flock, is not inherited by forked data-loader
        # workers, so it ends with the process that took it
        fcntl.lockf(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as err:
        if err.errno not in (errno.EACCES, errno.EAGAIN):
            raise
        handle.seek(0)
        owner = handle.read().strip() or 'another process'
        raise UserError(f'work dir {work_dir} is in use by {user} ({owner}): wait for it '
                        f'to end, or choose another --work-dir') from None
    handle.seek(0)
    handle.truncate()
    handle.write(f'pid {os.getpid()}\n')
    handle.flush()
    _locks[osp.abspath(work_dir)] = handle


def unlock_work_dir(work_dir: str) -> None:
    """Release the lock :func:`lock_work_dir` took (nothing if this process holds none)."""
    handle = _locks.pop(osp.abspath(work_dir), None)
    if handle is not None:
        handle.close()
