"""What every evaluation input shares: the error type, JSON reading, quiet pycocotools."""
from __future__ import annotations

import contextlib
import io
import json
import math
import os
from typing import Any, Iterator

import numpy as np

from ..errors import UserError

IOU_TYPES = ('bbox', 'segm')
#: What pycocotools raises on input it cannot digest (turned into EvalInputError).
PYCOCO_ERRORS = (KeyError, TypeError, ValueError, IndexError, AssertionError)


class EvalInputError(UserError):
    """Malformed or inconsistent ground truth / detection input.

    The message always names the offending file (or ``<ground truth>`` /
    ``<detections>`` for in-memory inputs) so a CLI can print it as is.
    """


@contextlib.contextmanager
def quiet() -> Iterator[None]:
    """Silence pycocotools' progress prints."""
    with contextlib.redirect_stdout(io.StringIO()):
        yield


def check_iou_type(iou_type: str) -> None:
    """Reject an iou type other than 'bbox' / 'segm' (a caller's bug)."""
    if iou_type not in IOU_TYPES:
        raise ValueError(f'iou_type must be one of {IOU_TYPES}, got {iou_type!r}')


def read_json(path: str | os.PathLike, what: str) -> Any:
    """Load a JSON file; any failure is an :class:`EvalInputError` naming it."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise EvalInputError(f'{path}: {what} file not found')
    if os.path.isdir(path):
        raise EvalInputError(f'{path}: expected a {what} JSON file, got a directory')
    try:
        with open(path, encoding='utf-8') as f:
            return json.load(f)
    except json.JSONDecodeError as e:
        raise EvalInputError(f'{path}: {what} file is not valid JSON ({e})') from None
    except (OSError, UnicodeDecodeError) as e:
        raise EvalInputError(f'{path}: cannot read {what} file ({e})') from None


def is_number(x: Any) -> bool:
    """A finite int / float (numpy included), not a bool."""
    return isinstance(x, (int, float, np.integer, np.floating)) and \
        not isinstance(x, bool) and math.isfinite(float(x))
