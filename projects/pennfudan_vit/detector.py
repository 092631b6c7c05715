"""The one way to build a detector and load a checkpoint into it, and the PyTorch predictor
(image in, numpy instances out) that the inference tools, parity checks and benchmarks share.

A checkpoint is read once (``weights_only``, mmengine's objects allow-listed by
:mod:`pennfudan_vit.engine`) and loaded once with ``load_state_dict``, whose module hooks
still run (mmpretrain resizes a ViT's position embedding); any missing, unexpected or
reshaped weight is a one-line :class:`UserError` naming the config it was trained with.
"""
import os.path as osp
import re
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from .config import drop_pretrained
from .errors import UserError


def read_checkpoint(path: str) -> dict:
    """The checkpoint file as a dict; a missing or unreadable file is a :class:`UserError`."""
    import pennfudan_vit.engine  # noqa: F401  (allow-lists mmengine objects for torch.load)
    if not osp.isfile(path):
        raise UserError(f'checkpoint {path} does not exist')
    try:
        checkpoint = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unreadable file is the user's to fix
        raise UserError(f'checkpoint {path} cannot be read ({type(err).__name__}: '
                        f'{str(err).splitlines()[0][:200] if str(err) else ""})') from err
    if not isinstance(checkpoint, dict):
        raise UserError(f'checkpoint {path} holds a {type(checkpoint).__name__}, not weights')
    return checkpoint


def load_weights(model: nn.Module, path: str, config: str = 'the config') -> dict:
    """Load ``path`` into ``model`` (a ``module.`` prefix is dropped); raise a
    :class:`UserError` unless every weight fits. Returns the checkpoint dict."""
    checkpoint = read_checkpoint(path)
    state = checkpoint.get('state_dict', checkpoint)
    state = {k[7:] if k.startswith('module.') else k: v for k, v in state.items()}
    try:
        result = getattr(model, 'module', model).load_state_dict(state, strict=False)
        missing, unexpected, mismatched = result.missing_keys, result.unexpected_keys, []
    except RuntimeError as err:
        mismatched = re.findall(r'size mismatch for ([\w.]+)', str(err))
        missing, unexpected = [], []
        if not mismatched:
            raise
    if missing or mismatched or unexpected:
        # a Runner's experiment name is <config>_<timestamp>
        trained = re.sub(r'_\d{8}_\d{6}$', '', (checkpoint.get('meta') or {}).get(
            'experiment_name') or '')
        parts = [f'{len(names)} {what} (e.g. {", ".join(names[:3])})'
                 for names, what in ((missing, 'missing'), (mismatched, 'of another shape'),
                                     (unexpected, 'unexpected')) if names]
        raise UserError(f'checkpoint {path} does not match config {config}: weights '
                        f'{", ".join(parts)}; it was trained with '
                        + (f'configs/{trained}.py' if trained else 'an unknown config'))
    return checkpoint


def resolve_device(device: Optional[str]) -> str:
    """``device`` checked against this machine, or ``cuda:0`` where available, else ``cpu``."""
    if device is None:
        return 'cuda:0' if torch.cuda.is_available() else 'cpu'
    index = {'cpu': None, 'cuda': '0'}.get(device, device[5:] if device[:5] == 'cuda:' else '')
    if index is not None and not index.isdigit():
        raise UserError(f'--device {device}: give cpu, cuda or cuda:N')
    count = torch.cuda.device_count()
    if index is not None and int(index) >= count:
        raise UserError(f'--device {device}: this machine has {count or "no"} usable CUDA '
                        f'GPU(s) (torch {torch.__version__}, CUDA build '
                        f'{torch.version.cuda or "none"}); use --device cpu')
    return device


def build_model(cfg: Config) -> nn.Module:
    """``cfg.model`` built in mmdet's scope, with the plugin and mmpretrain registered."""
    import mmpretrain.models  # noqa: F401  (registers mmpretrain backbones)
    import pennfudan_vit.engine  # noqa: F401
    import pennfudan_vit.models  # noqa: F401
    from mmdet.registry import MODELS
    from mmdet.utils import register_all_modules
    register_all_modules(init_default_scope=True)
    return MODELS.build(cfg.model)


def load_detector(cfg: Config, checkpoint: Optional[str] = None, device: str = 'cpu',
                  config: Optional[str] = None) -> Tuple[nn.Module, dict]:
    """The config's detector on ``device`` in eval mode, and its checkpoint dict.

    With ``checkpoint`` the weights come from it alone (pretrained initialisation is
    dropped from ``cfg``); without, the model is randomly initialised.
    """
    drop_pretrained(cfg)
    model = build_model(cfg)
    if checkpoint:
        loaded = load_weights(model, checkpoint, config or cfg.filename or 'the config')
    else:
        from mmengine.logging import MMLogger
        logger = MMLogger.get_current_instance()  # it would list every parameter's init
        level, loaded = logger.level, {}
        logger.setLevel('WARNING')
        try:
            model.init_weights()
        finally:
            logger.setLevel(level)
    return model.to(device).eval(), loaded


def instances_to_numpy(instances) -> Dict[str, np.ndarray]:
    """mmdet ``pred_instances`` as the numpy dict both runtimes return: boxes (N, 4) xyxy,
    scores, labels, masks (N, H, W) bool."""
    masks = instances.masks if 'masks' in instances else torch.zeros(
        (len(instances), 0, 0), dtype=torch.bool)
    return dict(boxes=instances.bboxes.float().cpu().numpy(),
                scores=instances.scores.float().cpu().numpy(),
                labels=instances.labels.cpu().numpy().astype(np.int64),
                masks=masks.cpu().numpy().astype(bool))


class TorchDetector:
    """The PyTorch model as ``tools/test.py`` runs it: the config's test pipeline (without
    annotations), the data preprocessor and ``test_step``, on an RGB uint8 image."""

    def __init__(self, cfg: Config, model: nn.Module,
                 input_size: Optional[Tuple[int, int]] = None) -> None:
        from mmcv.transforms import Compose
        from .deploy.metadata import classes_and_palette
        steps = [dict(s) for s in cfg.test_dataloader.dataset.pipeline
                 if str(s['type']).split('.')[-1] != 'LoadAnnotations']
        # arrays in, as video frames and uploaded images come
        steps[0] = dict(type='mmdet.LoadImageFromNDArray')
        if input_size is not None:
            for s in steps:
                if str(s['type']).split('.')[-1] == 'Resize':
                    s['scale'] = (int(input_size[1]), int(input_size[0]))
        self.pipeline = Compose(steps)
        self.model = model.eval()
        classes, self.palette = classes_and_palette(cfg)
        self.class_names = tuple(classes)

    def prepare(self, image: np.ndarray) -> dict:
        """The batch ``model.test_step`` takes for an RGB (H, W, 3) uint8 image."""
        data = self.pipeline(dict(img=np.ascontiguousarray(image[..., ::-1]), img_id=0))
        return dict(inputs=[data['inputs']], data_samples=[data['data_samples']])

    def predict(self, batch: dict) -> Dict[str, np.ndarray]:
        """Instances at the image's size (see :func:`instances_to_numpy`)."""
        with torch.inference_mode():
            return instances_to_numpy(self.model.test_step(batch)[0].pred_instances)

    def __call__(self, image: np.ndarray) -> Dict[str, np.ndarray]:
        """:meth:`predict` of :meth:`prepare`."""
        return self.predict(self.prepare(image))
