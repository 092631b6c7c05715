"""The PyTorch model as ``tools/test.py`` runs it, image in, instances out: the parity and
speed baseline of the ONNX runtime."""
from typing import Dict, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from torch import nn


class TorchDetector:
    """mmdet test pipeline (without annotations) + data preprocessor + ``predict``."""

    def __init__(self, cfg: Config, model: nn.Module,
                 input_size: Optional[Tuple[int, int]] = None) -> None:
        from mmcv.transforms import Compose
        steps = [dict(s) for s in cfg.test_dataloader.dataset.pipeline
                 if str(s['type']).split('.')[-1] != 'LoadAnnotations']
        if input_size is not None:
            for s in steps:
                if str(s['type']).split('.')[-1] == 'Resize':
                    s['scale'] = (int(input_size[1]), int(input_size[0]))
        self.pipeline = Compose(steps)
        self.model = model.eval()

    def prepare(self, path: str) -> dict:
        """The batch ``model.test_step`` takes for the image file ``path``."""
        data = self.pipeline(dict(img_path=path, img_id=0))
        return dict(inputs=[data['inputs']], data_samples=[data['data_samples']])

    def predict(self, batch: dict) -> Dict[str, np.ndarray]:
        """Instances at the image's size: boxes, scores, labels, masks (bool)."""
        with torch.no_grad():
            res = self.model.test_step(batch)[0].pred_instances
        return dict(boxes=res.bboxes.numpy(), scores=res.scores.numpy(),
                    labels=res.labels.numpy(), masks=res.masks.numpy().astype(bool))

    def __call__(self, path: str) -> Dict[str, np.ndarray]:
        """:meth:`predict` of :meth:`prepare`."""
        return self.predict(self.prepare(path))
