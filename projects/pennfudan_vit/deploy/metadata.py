"""What an exported ``.onnx`` file records about its model, read by the runtime.

Each field is one ``metadata_props`` entry holding a JSON value, so tools such
as Netron show them one by one.
"""
import json
from dataclasses import asdict, dataclass, fields
from typing import Dict, List, Tuple

from ..errors import UserError

FORMAT = 'pennfudan_vit.onnx/1'
INPUT_NAMES = ('image', 'image_hw')
OUTPUT_NAMES = ('boxes', 'scores', 'labels', 'masks')


@dataclass
class DeployMeta:
    """Preprocessing, classes and thresholds of an exported detector."""

    config: str                    # config file name the model was built from
    input_size: Tuple[int, int]    # (h, w) keep-ratio resize target (the config test size)
    size_divisor: int              # network input padded to multiples of this (any size)
    mean: List[float]              # per channel, in the model's channel order
    std: List[float]
    rgb: bool                      # the model takes RGB (else BGR) channels
    class_names: List[str]
    palette: List[Tuple[int, int, int]]
    score_thr: float               # applied inside the graph (config rcnn.score_thr)
    mask_thr: float                # binarises pasted mask probabilities
    max_per_img: int
    opset: int
    torch_version: str
    mmdet_version: str
    quantization: str = 'none'     # or 'int8-static', 'int8-dynamic'
    format: str = FORMAT

    def to_props(self) -> Dict[str, str]:
        """``metadata_props`` entries: field name -> JSON text."""
        return {k: json.dumps(v) for k, v in asdict(self).items()}

    @classmethod
    def from_props(cls, props: Dict[str, str], path: str) -> 'DeployMeta':
        """Parse entries written by :meth:`to_props`; a foreign file is a :class:`UserError`."""
        if props.get('format') != json.dumps(FORMAT):
            raise UserError(f'{path} is not a pennfudan_vit export (no "{FORMAT}" metadata): '
                            'export it with tools/export_onnx.py')
        missing = [f.name for f in fields(cls) if f.name not in props]
        if missing:
            raise UserError(f'{path} lacks metadata {", ".join(missing)}: re-export it with '
                            'tools/export_onnx.py')
        values = {f.name: json.loads(props[f.name]) for f in fields(cls)}
        values['input_size'] = tuple(values['input_size'])
        values['palette'] = [tuple(c) for c in values['palette']]
        return cls(**values)


def classes_and_palette(cfg) -> Tuple[List[str], List[Tuple[int, int, int]]]:
    """A config's class names (its ``metainfo``, else the test dataset's) and a colour for
    each: the config's palette, or a fixed colour per class when it has none."""
    meta = cfg.get('metainfo') or cfg.test_dataloader.dataset.get('metainfo') or {}
    classes, palette = list(meta.get('classes') or ()), meta.get('palette')
    if palette and len(palette) >= len(classes):
        return classes, [tuple(int(c) for c in p) for p in palette[:len(classes)]]
    return classes, [((220 + 67 * i) % 256, (20 + 113 * i) % 256, (60 + 29 * i) % 256)
                     for i in range(len(classes))]
