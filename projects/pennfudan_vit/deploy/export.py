"""Config + checkpoint -> one checked ``.onnx`` file with its preprocessing in the metadata."""
import importlib.util
import io
import os.path as osp
import warnings
from dataclasses import replace
from typing import Any, Dict, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from ..config import load_config
from ..detector import load_detector
from ..errors import UserError
from ..fileio import atomic_write_bytes
from .metadata import INPUT_NAMES, OUTPUT_NAMES, DeployMeta, classes_and_palette
from .onnx_model import ExportableMaskRCNN
from .quantize import (CALIB_IMAGES, MODES, calibration_images, quantize_dynamic_int8,
                       quantize_static_int8)

OPSET = 17


def resize_target(cfg: Config) -> Tuple[int, int]:
    """(h, w) of the test pipeline's keep-ratio Resize, the one resize the runtime redoes."""
    steps = cfg.test_dataloader.dataset.get('pipeline', [])
    sizes = [s for s in steps if str(s.get('type', '')).split('.')[-1] in
             ('Resize', 'RandomResize', 'Pad', 'FixShapeResize', 'RandomCrop')]
    if (len(sizes) != 1 or str(sizes[0]['type']).split('.')[-1] != 'Resize'
            or not sizes[0].get('keep_ratio', False)):
        raise UserError('ONNX export reproduces a test pipeline with one keep-ratio Resize; '
                        f'this config has {[s["type"] for s in sizes]}')
    scale = sizes[0]['scale']
    w, h = (scale, scale) if isinstance(scale, int) else scale
    return int(h), int(w)


def deploy_meta(cfg: Config, config_path: str, input_size: Tuple[int, int],
                quantization: str = 'none') -> DeployMeta:
    """What the runtime needs to preprocess, label and threshold like mmdet."""
    import mmdet
    pre = cfg.model.data_preprocessor
    if pre.get('pad_value', 0) != 0 or pre.get('rgb_to_bgr', False):
        raise UserError('ONNX export reproduces DetDataPreprocessor with pad_value=0 and '
                        'without rgb_to_bgr')
    classes, palette = classes_and_palette(cfg)
    num_classes = int(cfg.model.roi_head.bbox_head.num_classes)
    if len(classes) != num_classes:
        raise UserError(f'the config names {len(classes)} classes (metainfo.classes) but its '
                        f'box head predicts {num_classes}')
    rcnn = cfg.model.test_cfg.rcnn
    return DeployMeta(
        config=osp.basename(config_path), input_size=tuple(input_size),
        size_divisor=int(pre.get('pad_size_divisor', 1)),
        mean=[float(v) for v in pre.mean], std=[float(v) for v in pre.std],
        rgb=bool(pre.get('bgr_to_rgb', False)), class_names=classes,
        palette=palette, score_thr=float(rcnn.score_thr),
        mask_thr=float(rcnn.mask_thr_binary), max_per_img=int(rcnn.max_per_img),
        opset=OPSET, torch_version=torch.__version__, mmdet_version=mmdet.__version__,
        quantization=quantization)


def trace_input(input_size: Sequence[int], backbone: nn.Module,
                seed: int = 0) -> Tuple[torch.Tensor, torch.Tensor]:
    """A random (1, 3, h, w) example near ``input_size`` whose patch grid is not the
    backbone's own, so size arithmetic (the ViT position-embedding resize) is traced
    rather than frozen to one size."""
    own = tuple(getattr(backbone, 'patch_resolution', ()))
    proj = getattr(getattr(backbone, 'patch_embed', None), 'projection', None)
    patch = proj.stride[0] if proj is not None else 16
    h0, w0 = (-(-v // 32) * 32 for v in input_size)
    for h, w in ((h0, w0 - 32), (h0 - 32, w0), (h0, w0 + 32)):
        if h > 0 and w > 0 and (h // patch, w // patch) != own:
            break
    g = torch.Generator().manual_seed(seed)
    return torch.randn(1, 3, h, w, generator=g), torch.tensor([h, w], dtype=torch.float32)


def to_onnx(module: ExportableMaskRCNN, example: Tuple[torch.Tensor, torch.Tensor]) -> bytes:
    """Trace ``module`` to ONNX (TorchScript exporter: data-dependent shapes stay dynamic)."""
    buf = io.BytesIO()
    dyn = {'image': {2: 'height', 3: 'width'}}
    dyn.update({name: {0: 'detections'} for name in OUTPUT_NAMES})
    with torch.no_grad(), warnings.catch_warnings():
        # shape arithmetic and asserts are traced on purpose; their warnings are noise
        warnings.simplefilter('ignore', torch.jit.TracerWarning)
        torch.onnx.export(module, example, buf, dynamo=False, opset_version=OPSET,
                          input_names=list(INPUT_NAMES), output_names=list(OUTPUT_NAMES),
                          dynamic_axes=dyn, do_constant_folding=True)
    return buf.getvalue()


def finish_model(data: bytes, meta: DeployMeta, simplify: bool = True) -> bytes:
    """Check the graph, simplify it when onnxsim is installed, attach ``meta``."""
    import onnx
    model = onnx.load_from_string(data)
    onnx.checker.check_model(model)
    if simplify and importlib.util.find_spec('onnxsim') is not None:
        import onnxsim
        simplified, ok = onnxsim.simplify(model)
        model = simplified if ok else model
    del model.metadata_props[:]
    onnx.helper.set_model_props(model, meta.to_props())
    model.doc_string = f'pennfudan_vit Mask R-CNN from {meta.config}'
    onnx.checker.check_model(model)
    return model.SerializeToString()


def quantize(data: bytes, meta: DeployMeta, mode: str, calib_images: Sequence[str] = (),
             **static: Any) -> Tuple[bytes, DeployMeta, Dict]:
    """A float export as int8 (``mode``: ``static``, calibrated on ``calib_images``, with
    ``static`` options of :func:`quantize_static_int8`, or ``dynamic``) with ``meta``
    saying so; returns the bytes, the metadata, the recipe."""
    if mode == 'static':
        data, recipe = quantize_static_int8(data, calib_images, **static)
    else:
        data, recipe = quantize_dynamic_int8(data)
    meta = replace(meta, quantization=f'int8-{mode}')
    return finish_model(data, meta, simplify=False), meta, recipe


def second_input(example: Tuple[torch.Tensor, torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
    """Another size than ``example`` (both sides changed, padding inside), seeded."""
    _, _, h, w = example[0].shape
    big_h, big_w = max(h - 64, 64), w + 32
    g = torch.Generator().manual_seed(1)
    image = torch.randn(1, 3, big_h, big_w, generator=g)
    image[..., big_h - 5:, :] = 0
    return image, torch.tensor([big_h - 5, big_w], dtype=torch.float32)


def compare_with_torch(module: ExportableMaskRCNN, data: bytes,
                       example: Tuple[torch.Tensor, torch.Tensor]) -> Dict[str, float]:
    """Largest ONNX Runtime vs eager differences on ``example`` and on a second size;
    a graph that only runs at the traced size is a :class:`UserError`."""
    import onnxruntime as ort
    from onnxruntime.capi.onnxruntime_pybind11_state import Fail, InvalidArgument
    opts = ort.SessionOptions()
    opts.log_severity_level = 4  # the failure below is reported as one line instead
    sess = ort.InferenceSession(data, opts, providers=['CPUExecutionProvider'])
    diffs = {}
    for tag, (image, hw) in (('', example), ('size2_', second_input(example))):
        try:
            got = sess.run(list(OUTPUT_NAMES), {INPUT_NAMES[0]: image.numpy(),
                                                INPUT_NAMES[1]: hw.numpy()})
        except (Fail, InvalidArgument) as err:
            raise UserError(
                f'the exported graph runs only at the traced size {tuple(example[0].shape[2:])}'
                f', not at {tuple(image.shape[2:])} ({str(err).splitlines()[0][:160]}): '
                'this backbone freezes sizes when traced and is not supported') from err
        got = dict(zip(OUTPUT_NAMES, got))
        with torch.no_grad():
            want = dict(zip(OUTPUT_NAMES, (t.numpy() for t in module(image, hw))))
        diffs[f'{tag}detections'] = float(len(want['scores']))
        diffs[f'{tag}count_diff'] = float(len(got['scores']) - len(want['scores']))
        if len(got['scores']) == len(want['scores']) and len(want['scores']):
            for name in ('boxes', 'scores', 'masks'):
                diffs[f'{tag}{name}_max_abs'] = float(np.abs(got[name] - want[name]).max())
        if diffs[f'{tag}count_diff'] or diffs.get(f'{tag}boxes_max_abs', 0) > 1:
            raise UserError(f'ONNX Runtime and PyTorch disagree at input size '
                            f'{tuple(image.shape[2:])}: {diffs}; this model does not export')
    return diffs


def export_model(model: nn.Module, cfg: Config, config_name: str,
                 input_size: Tuple[int, int], simplify: bool = True,
                 verify: bool = True) -> Tuple[bytes, DeployMeta, Dict[str, float]]:
    """A built detector as ONNX bytes, its metadata, and the ONNX Runtime vs PyTorch
    differences on the trace input (empty when ``verify`` is False)."""
    module = ExportableMaskRCNN(model).eval()
    meta = deploy_meta(cfg, config_name, input_size)
    example = trace_input(input_size, module.backbone)
    data = finish_model(to_onnx(module, example), meta, simplify)
    diffs = compare_with_torch(module, data, example) if verify else {}
    return data, meta, diffs


def export_onnx(config: str, checkpoint: Optional[str], out: str,
                input_size: Optional[Tuple[int, int]] = None, int8: Optional[str] = None,
                cfg_options: Optional[dict] = None, simplify: bool = True,
                verify: bool = True, calib_data: Optional[str] = None,
                calib_images: int = CALIB_IMAGES
                ) -> Tuple[DeployMeta, Dict[str, float], Optional[Dict]]:
    """Export ``config`` + ``checkpoint`` (random weights if None) to ``out`` atomically.

    ``input_size`` (h, w) replaces the config's test resize target; the weights,
    and so the ViT's own ``img_size``, stay as trained. ``int8`` (``static`` or
    ``dynamic``) quantises the graph after the float one was checked against PyTorch;
    ``static`` calibrates on ``calib_images`` images of the config's training split
    (under ``calib_data`` when given), chosen before any work. Returns the metadata,
    the ONNX Runtime vs PyTorch differences and the quantisation recipe (or None).
    """
    if not out.endswith('.onnx'):
        raise UserError(f'--out {out}: give a file name ending in .onnx')
    if not osp.isdir(osp.dirname(osp.abspath(out))):
        raise UserError(f'--out {out}: folder {osp.dirname(out) or "."} does not exist')
    if checkpoint is not None and not osp.isfile(checkpoint):
        raise UserError(f'checkpoint {checkpoint} does not exist')
    if input_size is not None and min(input_size) < 32:
        raise UserError(f'--input-size {input_size}: give H W of at least 32 pixels')
    cfg = load_config(config, cfg_options)
    size = resize_target(cfg)  # refuses test pipelines the runtime cannot redo
    if input_size:
        size = tuple(int(v) for v in input_size)
    if int8 not in (None, *MODES):
        raise UserError(f'--int8 {int8}: choose one of {", ".join(MODES)}')
    images = calibration_images(cfg, calib_data, calib_images) if int8 == 'static' else ()
    model, _ = load_detector(cfg, checkpoint, config=config)
    data, meta, diffs = export_model(model, cfg, config, size, simplify, verify)
    recipe = None
    if int8:
        data, meta, recipe = quantize(data, meta, int8, images)
    atomic_write_bytes(out, data)
    return meta, diffs, recipe

