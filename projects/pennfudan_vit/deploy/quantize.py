"""int8 versions of an exported graph: static quantisation calibrated on training images
(the recipe ``--int8`` applies), or ONNX Runtime's dynamic quantisation.

Static: the layers with weights of ``STATIC_OPS`` become QuantizeLinear/DequantizeLinear
pairs around them (QDQ), int8 weights per output channel and uint8 activations whose
ranges come from running the float graph on training images preprocessed exactly as the
runtime does. ONNX Runtime fuses each pair into an int8 kernel (VNNI / AMX where the CPU
has them). Only training images are read: calibrating on the test split would tune the
quantised model to the images it is scored on.
"""
import copy
import os.path as osp
import tempfile
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from mmengine.config import Config

from ..config.edits import leaf_datasets, set_data_root
from ..config.validation import check_dataset_files
from ..errors import UserError
from ..fileio import atomic_write_bytes, read_json
from .image_ops import load_image
from .runtime import OnnxDetector

MODES = ('static', 'dynamic')
CALIB_IMAGES = 32
# The static recipe, chosen by measurement (docs/deploy.md, "int8"): the operator classes
# quantised, and of these only the nodes that hold weights (attention's
# activation-by-activation products stay float: quantising them costs more than it saves) ...
STATIC_OPS = ('MatMul', 'Gemm', 'Conv')
# ... less the layers whose outputs are the predictions (objectness, box deltas, class
# scores, mask logits), left float by name: they are small, and their rounding would move
# every detection
FLOAT_LAYERS = ('rpn_cls', 'rpn_reg', 'fc_cls', 'fc_reg', 'conv_logits')
MOVING_AVERAGE = False
DYNAMIC_OPS = ('MatMul', 'Gemm')


def calibration_images(cfg: Config, data_root: Optional[str] = None,
                       n: int = CALIB_IMAGES) -> List[str]:
    """``n`` image files of the config's training split (under ``data_root`` when given),
    evenly spaced over its annotation file's order; bad input is a :class:`UserError`."""
    if n < 1:
        raise UserError(f'--calib-images {n}: give at least 1')
    if data_root is not None:
        if not osp.isdir(data_root):
            raise UserError(f'--calib-data {data_root} is not a folder')
        cfg = copy.deepcopy(cfg)  # the caller's config keeps its data root
        set_data_root(cfg, data_root)
    check_dataset_files(cfg, ['train_dataloader'])
    files = []
    for ds in leaf_datasets(cfg.train_dataloader.dataset):
        root = ds.get('data_root') or ''
        ann = osp.join(root, ds.ann_file)
        prefix = osp.join(root, (ds.get('data_prefix') or {}).get('img', ''))
        images = read_json(ann, 'annotation').get('images')
        if not images:
            raise UserError(f'{ann} lists no images to calibrate on')
        files += [osp.join(prefix, im['file_name']) for im in images]
    if n > len(files):
        raise UserError(f'--calib-images {n}: the training split has only {len(files)} images')
    chosen = [files[i * len(files) // n] for i in range(n)]
    missing = [f for f in chosen if not osp.isfile(f)]
    if missing:
        raise UserError(f'calibration image {missing[0]} does not exist ({len(missing)} of '
                        f'{n} missing): check --calib-data')
    return chosen


class CalibrationImages:
    """ONNX Runtime's calibration reader: the graph inputs of each image, preprocessed by
    the runtime of the float export (resize, normalise, pad), one image at a time."""

    def __init__(self, detector: OnnxDetector, images: Sequence[str]) -> None:
        self.detector, self.images = detector, list(images)
        self._next: Iterator[str] = iter(self.images)

    def get_next(self) -> Optional[Dict[str, Any]]:
        path = next(self._next, None)
        if path is None:
            return None
        tensor, image_hw, _ = self.detector.preprocess(load_image(path))
        return {'image': tensor, 'image_hw': image_hw}


def weight_nodes(model, op_types: Sequence[str], keep_float: Sequence[str] = ()) -> List[str]:
    """Names of the ``op_types`` nodes that take a weight (an initializer), less those
    whose name holds one of ``keep_float``."""
    weights = {init.name for init in model.graph.initializer}
    return [n.name for n in model.graph.node
            if n.op_type in op_types and any(i in weights for i in n.input)
            and not any(k in n.name for k in keep_float)]


def quantize_static_int8(data: bytes, images: Sequence[str],
                         op_types: Sequence[str] = STATIC_OPS,
                         keep_float: Sequence[str] = FLOAT_LAYERS,
                         moving_average: bool = MOVING_AVERAGE) -> Tuple[bytes, Dict[str, Any]]:
    """``data`` (a float export) with its weight layers of ``op_types`` quantised,
    activation ranges calibrated on ``images`` (each tensor's min and max over all of
    them, or with ``moving_average`` the mean of the per-image ones); returns the bytes and
    the recipe."""
    import onnx
    from onnxruntime.quantization import (CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    model = onnx.load_from_string(data)
    nodes = weight_nodes(model, op_types, keep_float)
    recipe = dict(mode='static', format='QDQ', weights='int8, per channel',
                  activations='uint8, per tensor',
                  calibration='MinMax' + (', moving average' if moving_average else ''),
                  op_types=list(op_types), keep_float=list(keep_float),
                  quantized_nodes=len(nodes), calibration_images=list(images))
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'fp32.onnx'), osp.join(tmp, 'int8.onnx')
        reader = CalibrationImages(OnnxDetector(atomic_write_bytes(src, data)), images)
        # the graph's shapes depend on the data (NMS, top-k), so the calibration
        # tensors differ in size from image to image: MinMax handles that (Percentile
        # does not). No quant_pre_process, whose warning ONNX Runtime prints:
        # its symbolic shape inference fails on these shapes, and its optimisation
        # alone did not change the int8 graph's speed
        quantize_static(src, dst, reader, quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                        op_types_to_quantize=list(op_types), nodes_to_quantize=nodes,
                        calibrate_method=CalibrationMethod.MinMax,
                        extra_options=dict(CalibMovingAverage=moving_average))
        with open(dst, 'rb') as f:
            return f.read(), recipe


def quantize_dynamic_int8(data: bytes) -> Tuple[bytes, Dict[str, Any]]:
    """``data`` with int8 MatMul/Gemm weights, activations quantised at run time."""
    from onnxruntime.quantization import QuantType, quantize_dynamic
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = osp.join(tmp, 'fp32.onnx'), osp.join(tmp, 'int8.onnx')
        quantize_dynamic(atomic_write_bytes(src, data), dst, weight_type=QuantType.QInt8,
                         op_types_to_quantize=list(DYNAMIC_OPS))
        with open(dst, 'rb') as f:
            return f.read(), dict(mode='dynamic', weights='int8, per tensor',
                                  activations='uint8, quantised at run time',
                                  op_types=list(DYNAMIC_OPS))
