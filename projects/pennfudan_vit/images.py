"""Image inputs of the inference tools: an image, a folder or a glob (no torch); the files
are read by :func:`pennfudan_vit.deploy.image_ops.load_image`."""
import glob
import os
import os.path as osp
import sys
from typing import List, Sequence, Tuple

from .errors import UserError

IMG_EXTS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp')


def collect_images(spec: str) -> List[str]:
    """Image paths from a file, a folder or a glob, sorted."""
    if osp.isdir(spec):
        files = [osp.join(spec, f) for f in os.listdir(spec)]
    elif any(c in spec for c in '*?['):
        files = glob.glob(spec, recursive=True)
    elif osp.isfile(spec):
        files = [spec]
    else:
        raise UserError(f'input {spec} is not an image, a folder or a glob that matches')
    files = sorted(f for f in files if f.lower().endswith(IMG_EXTS) and osp.isfile(f))
    if not files:
        raise UserError(f'no images ({", ".join(IMG_EXTS)}) found in {spec}')
    return files


def exit_if_unreadable(tool: str, failed: Sequence[Tuple[str, str]], total: int) -> None:
    """After processing every readable image: name the unreadable ones and exit 1."""
    if failed:
        print(f'[{tool}] error: {len(failed)} of {total} files could not be read: '
              + ', '.join(path for path, _ in failed), file=sys.stderr)
        sys.exit(1)
