"""Pictures of a run: training curves and a qualitative grid."""
from .curves import plot_curves, read_scalars

__all__ = ['plot_curves', 'read_scalars']
