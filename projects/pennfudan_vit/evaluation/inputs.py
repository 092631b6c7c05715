"""What every evaluation input shares: number checks, quiet pycocotools."""
from __future__ import annotations

import contextlib
import io
import math
from typing import Any, Iterator

import numpy as np

from ..errors import UserError

IOU_TYPES = ('bbox', 'segm')
#: What pycocotools raises on input it cannot digest (turned into a UserError that names
#: the file, or ``<ground truth>`` / ``<detections>`` for in-memory inputs).
PYCOCO_ERRORS = (KeyError, TypeError, ValueError, IndexError, AssertionError)


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence pycocotools' progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def check_iou_type(iou_type: str) -> None:
    """Reject an iou type other than 'bbox' / 'segm' (a caller's bug)."""
    if iou_type not in IOU_TYPES:
        raise ValueError(f'iou_type must be one of {IOU_TYPES}, got {iou_type!r}')


def is_number(x: Any) -> bool:
    """A finite int / float (numpy included), not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and \
        not isinstance(x, bool) and math.isfinite(float(x))
