"""Parser of the PASCAL v1.00 text annotations shipped in ``Annotation/``.

The converter takes instances from the pixel masks; these files only serve to
cross-check them, so the parser is lenient and returns what it can read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_COUNT_RE = re.compile(r'^Objects with ground truth\s*:\s*(\d+)', re.M)
# Bounding box for object 1 "PASpersonWalking" (Xmin, Ymin) - (Xmax, Ymax) :
#   (160, 182) - (302, 431)
_BOX_RE = re.compile(
    r'^Bounding box for object\s+(\d+)[^:\n]*:\s*'
    r'\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)\s*-\s*\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)',
    re.M)

Box = tuple[int, int, int, int]


@dataclass
class PascalAnnotation:
    """Objects of one annotation file.

    Attributes:
        declared_count: the ``Objects with ground truth`` number, if present.
        boxes: object index (1-based) -> ``(xmin, ymin, xmax, ymax)``,
            inclusive pixel coordinates where the top-left pixel is (1, 1).
    """

    declared_count: int | None = None
    boxes: dict[int, Box] = field(default_factory=dict)

    def box_0based(self, index: int) -> Box:
        """Return object ``index``'s box in 0-based inclusive coordinates."""
        x1, y1, x2, y2 = self.boxes[index]
        return x1 - 1, y1 - 1, x2 - 1, y2 - 1


def parse_pascal_annotation(text: str) -> PascalAnnotation:
    """Parse the object count and boxes of a PASCAL v1.00 annotation text."""
    ann = PascalAnnotation()
    count = _COUNT_RE.search(text)
    if count:
        ann.declared_count = int(count.group(1))
    for match in _BOX_RE.finditer(text):
        index, *coords = map(int, match.groups())
        ann.boxes.setdefault(index, tuple(coords))
    return ann
