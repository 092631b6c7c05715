"""Image steps of the ONNX runtime in numpy: load, resize, normalise, paste masks.

They reproduce mmdet's test pipeline (``LoadImageFromFile`` + keep-ratio
``Resize`` + ``DetDataPreprocessor``) and ``FCNMaskHead`` mask pasting without
cv2 or torch, so the runtime needs only numpy and Pillow.
"""
import math
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from ..errors import UserError

# cv2 resizes uint8 images with 11-bit fixed-point weights (INTER_RESIZE_COEF_BITS)
_COEF_BITS = 11
_COEF_SCALE = 1 << _COEF_BITS


def load_image(path: str) -> np.ndarray:
    """An image file as an RGB ``uint8`` array (H, W, 3), EXIF orientation applied."""
    try:
        with Image.open(path) as img:
            # cv2.imread (mmcv's loader) honours EXIF orientation and drops alpha
            return np.asarray(ImageOps.exif_transpose(img).convert('RGB'))
    except FileNotFoundError as err:
        raise UserError(f'image {path} does not exist') from err
    except (UnidentifiedImageError, OSError) as err:
        raise UserError(f'image {path} cannot be read ({type(err).__name__}): give a '
                        'PNG/JPEG/BMP/TIFF/WebP file') from err


def keep_ratio_size(h: int, w: int, scale: Sequence[int]) -> Tuple[int, int]:
    """(new_h, new_w) of mmcv ``imrescale``: the largest fit of (h, w) in ``scale``."""
    factor = min(max(scale) / max(h, w), min(scale) / min(h, w))
    return int(h * factor + 0.5), int(w * factor + 0.5)


def _linear_taps(src: int, dst: int, clamp_frac: bool) -> Tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """cv2 INTER_LINEAR taps along one axis: the two source indices, fixed-point weights.

    cv2 zeroes the fraction of out-of-range taps along x only; along y it clips
    the row indices and keeps the fraction.
    """
    scale = 1.0 / (dst / src)  # cv2 inverts the (dst / src) factor
    pos = ((np.arange(dst, dtype=np.float64) + 0.5) * scale - 0.5).astype(np.float32)
    i0 = np.floor(pos).astype(np.int64)
    frac = (pos - i0.astype(np.float32)).astype(np.float32)
    if clamp_frac:
        frac[(i0 < 0) | (i0 >= src - 1)] = 0
    i1 = np.clip(i0 + 1, 0, src - 1)
    i0 = np.clip(i0, 0, src - 1)
    w1 = np.rint(frac * _COEF_SCALE).astype(np.int32)
    w0 = np.rint((np.float32(1) - frac) * _COEF_SCALE).astype(np.int32)
    return i0, i1, np.stack([w0, w1])


def resize_bilinear(img: np.ndarray, size: Tuple[int, int]) -> np.ndarray:
    """Resize a ``uint8`` (H, W, C) image to ``size`` (h, w) as cv2 INTER_LINEAR does.

    Integer arithmetic of cv2's vectorised path (11-bit weights, 16-bit high
    products), so results match cv2 to the grey level on all but rare pixels.
    """
    h, w = size
    if (h, w) == img.shape[:2]:
        return img.copy()
    if img.shape[:2] == (2 * h, 2 * w):  # cv2 then averages 2x2 blocks (INTER_AREA)
        s = img.astype(np.int32)
        return ((s[0::2, 0::2] + s[0::2, 1::2] + s[1::2, 0::2] + s[1::2, 1::2] + 2) >> 2
                ).astype(np.uint8)
    x0, x1, wx = _linear_taps(img.shape[1], w, clamp_frac=True)
    y0, y1, wy = _linear_taps(img.shape[0], h, clamp_frac=False)
    src = img.astype(np.int32)   # every intermediate stays below 2**31
    rows = (src[:, x0] * wx[0][None, :, None] + src[:, x1] * wx[1][None, :, None]) >> 4
    out = ((rows[y0] * wy[0][:, None, None]) >> 16) + ((rows[y1] * wy[1][:, None, None]) >> 16)
    return np.clip((out + 2) >> 2, 0, 255).astype(np.uint8)


def normalize_pad(img: np.ndarray, mean: Sequence[float], std: Sequence[float],
                  pad_hw: Tuple[int, int]) -> np.ndarray:
    """(1, 3, H, W) float32: ``(img - mean) / std``, zero-padded bottom/right to ``pad_hw``."""
    h, w = img.shape[:2]
    out = np.zeros((1, 3) + tuple(pad_hw), np.float32)
    chw = img.transpose(2, 0, 1).astype(np.float32)
    out[0, :, :h, :w] = (chw - np.asarray(mean, np.float32)[:, None, None]) / \
        np.asarray(std, np.float32)[:, None, None]
    return out


def padded_size(h: int, w: int, divisor: int) -> Tuple[int, int]:
    """(h, w) rounded up to multiples of ``divisor``."""
    return (int(math.ceil(h / divisor)) * divisor, int(math.ceil(w / divisor)) * divisor)


def _paste_taps(lo: float, hi: float, start: int, stop: int,
                cells: int) -> Tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Bilinear taps of ``grid_sample`` (align_corners=False, zero padding) along one
    axis for output pixels ``start:stop`` of a box from ``lo`` to ``hi``."""
    centres = np.arange(start, stop, dtype=np.float32) + np.float32(0.5)
    with np.errstate(divide='ignore', invalid='ignore'):
        g = (centres - np.float32(lo)) / (np.float32(hi) - np.float32(lo)) * 2 - 1
    g[np.isinf(g)] = 0  # a zero-size box: mmdet samples the mask centre
    pos = ((g + 1) * cells - 1) / 2
    i0 = np.floor(pos)
    frac = pos - i0
    taps = []
    for idx, weight in ((i0, 1 - frac), (i0 + 1, frac)):
        inside = (idx >= 0) & (idx < cells) & np.isfinite(pos)
        taps += [np.where(inside, idx, 0).astype(np.int64),
                 np.where(inside, weight, 0).astype(np.float32)]
    return tuple(taps)


def paste_masks(masks: np.ndarray, boxes: np.ndarray, img_hw: Tuple[int, int],
                threshold: float) -> np.ndarray:
    """(N, H, W) bool: (N, m, m) mask probabilities pasted into their boxes and thresholded.

    mmdet's ``_do_paste_mask`` (bilinear ``grid_sample``) is separable: rows, then
    columns, over each box plus a 1-pixel margin. Gathers rather than matrix
    products: a multi-threaded BLAS would spin and take cores from ONNX Runtime.
    """
    img_h, img_w = img_hw
    out = np.zeros((len(masks), img_h, img_w), bool)
    for i, (mask, (x0, y0, x1, y1)) in enumerate(zip(masks.astype(np.float32), boxes)):
        xa, ya = max(int(math.floor(x0)) - 1, 0), max(int(math.floor(y0)) - 1, 0)
        xb, yb = min(int(math.ceil(x1)) + 1, img_w), min(int(math.ceil(y1)) + 1, img_h)
        if xb <= xa or yb <= ya:
            continue
        r0, rw0, r1, rw1 = _paste_taps(y0, y1, ya, yb, mask.shape[0])
        c0, cw0, c1, cw1 = _paste_taps(x0, x1, xa, xb, mask.shape[1])
        rows = mask[r0] * rw0[:, None] + mask[r1] * rw1[:, None]
        out[i, ya:yb, xa:xb] = (rows[:, c0] * cw0 + rows[:, c1] * cw1) >= threshold
    return out
