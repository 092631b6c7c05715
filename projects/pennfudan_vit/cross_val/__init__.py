"""K-fold cross-validation over the converter's fold files (``tools/cross_val.py``):
:mod:`.folds` (fold files, fold configs), :mod:`.run` (checks, folds), :mod:`.summary`."""
