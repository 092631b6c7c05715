"""Pictures of a run: training curves, a qualitative grid."""
