"""Run an exported detector with ONNX Runtime: numpy, Pillow and onnxruntime only.

No torch, mmcv, mmdet or mmengine: this module is what a deployment installs
(``requirements/deploy.txt``).
"""
import os.path as osp
from typing import Dict, Optional, Sequence, Tuple

import numpy as np

from ..errors import UserError
from .image_ops import keep_ratio_size, normalize_pad, padded_size, paste_masks, resize_bilinear
from .metadata import INPUT_NAMES, OUTPUT_NAMES, DeployMeta


def open_session(path: str, threads: Optional[int] = None,
                 providers: Optional[Sequence[str]] = None):
    """An ``onnxruntime.InferenceSession`` for ``path``; a bad file is a :class:`UserError`."""
    try:
        import onnxruntime as ort
    except ModuleNotFoundError as err:
        raise UserError('onnxruntime is not installed: pip install -r requirements/deploy.txt'
                        ) from err
    if not osp.isfile(path):
        raise UserError(f'ONNX file {path} does not exist')
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument, InvalidGraph
    from onnxruntime.capi.onnxruntime_pybind11_state import InvalidProtobuf, NoSuchFile
    from onnxruntime.capi.onnxruntime_pybind11_state import NotImplemented as OrtNotImplemented
    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    if threads:
        opts.intra_op_num_threads = threads
    try:
        return ort.InferenceSession(path, opts, providers=list(providers or
                                                               ['CPUExecutionProvider']))
    except (Fail, InvalidArgument, InvalidGraph, InvalidProtobuf, NoSuchFile,
            OrtNotImplemented) as err:
        first = str(err).strip().splitlines()[0][:300] if str(err).strip() else ''
        raise UserError(f'ONNX file {path} cannot be loaded ({type(err).__name__}: {first}); '
                        're-export it with tools/export_onnx.py') from err


class OnnxDetector:
    """A Mask R-CNN exported by :mod:`pennfudan_vit.deploy.export`, image in, instances out."""

    def __init__(self, path: str, threads: Optional[int] = None,
                 providers: Optional[Sequence[str]] = None) -> None:
        self.session = open_session(path, threads, providers)
        self.meta = DeployMeta.from_props(self.session.get_modelmeta().custom_metadata_map, path)
        inputs = tuple(i.name for i in self.session.get_inputs())
        outputs = tuple(o.name for o in self.session.get_outputs())
        if inputs != INPUT_NAMES or outputs[:len(OUTPUT_NAMES)] != OUTPUT_NAMES:
            raise UserError(f'{path} has inputs {inputs} and outputs {outputs}, expected '
                            f'{INPUT_NAMES} and {OUTPUT_NAMES}: re-export it')
        self.class_names, self.palette = tuple(self.meta.class_names), self.meta.palette

    def preprocess(self, image: np.ndarray) -> Tuple[np.ndarray, np.ndarray, Tuple[float, float]]:
        """RGB (H, W, 3) uint8 -> network input, its valid (h, w) and the (w, h) scale factor."""
        if image.ndim != 3 or image.shape[2] != 3 or image.dtype != np.uint8:
            raise UserError(f'image must be an RGB uint8 array (H, W, 3), got {image.dtype} '
                            f'{image.shape}')
        meta = self.meta
        h, w = image.shape[:2]
        new_h, new_w = keep_ratio_size(h, w, meta.input_size)
        resized = resize_bilinear(image, (new_h, new_w))
        if not meta.rgb:
            resized = resized[..., ::-1]
        tensor = normalize_pad(resized, meta.mean, meta.std,
                               padded_size(new_h, new_w, meta.size_divisor))
        return tensor, np.array([new_h, new_w], np.float32), (new_w / w, new_h / h)

    def run_network(self, tensor: np.ndarray, image_hw: np.ndarray) -> Dict[str, np.ndarray]:
        """The graph's raw outputs (boxes in the network-input frame, 28x28 mask probabilities)."""
        values = self.session.run(list(OUTPUT_NAMES), {INPUT_NAMES[0]: tensor,
                                                        INPUT_NAMES[1]: image_hw})
        return dict(zip(OUTPUT_NAMES, values))

    def __call__(self, image: np.ndarray) -> Dict[str, np.ndarray]:
        """Instances at the image size: boxes (N, 4) xyxy, scores, labels, masks (N, H, W) bool."""
        tensor, image_hw, (sx, sy) = self.preprocess(image)
        raw = self.run_network(tensor, image_hw)
        # mmdet rescales boxes by dividing by the resize factors, then pastes masks
        boxes = raw['boxes'] / np.array([sx, sy, sx, sy], np.float32)
        masks = paste_masks(raw['masks'], boxes, image.shape[:2], self.meta.mask_thr)
        return dict(boxes=boxes.astype(np.float32), scores=raw['scores'].astype(np.float32),
                    labels=raw['labels'].astype(np.int64), masks=masks)
