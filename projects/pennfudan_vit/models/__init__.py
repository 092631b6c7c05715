from .separable_roi_align import SeparableRoIAlign, SeparableRoIExtractor
from .simple_fpn import SimpleFPN

__all__ = ['SimpleFPN', 'SeparableRoIAlign', 'SeparableRoIExtractor']
