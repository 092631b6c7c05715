"""Deterministic train/val/test splits and K folds, stratified by collection.

Penn-Fudan mixes two collections (``FudanPed``, ``PennPed``) with different
scenes, so every split and fold draws from both in proportion. The result
depends only on the sorted names, the ratios and the seed.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

SPLIT_NAMES = ('train', 'val', 'test')


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Round ``total * w / sum(weights)`` to integers summing to ``total``; ties go first."""
    quotas = [total * w / float(sum(weights)) for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(range(len(quotas)), key=lambda j: (-(quotas[j] - counts[j]), j))
    for j in order[:total - sum(counts)]:
        counts[j] += 1
    return counts


def stratum_table(row_totals: Sequence[int], col_totals: Sequence[int]) -> list[list[int]]:
    """Integer table with these margins, each cell near ``row * col / total``."""
    n = sum(row_totals)
    quotas = [[r * c / n for c in col_totals] for r in row_totals]
    table = [[math.floor(q) for q in row] for row in quotas]
    row_need = [r - sum(row) for r, row in zip(row_totals, table)]
    col_need = [c - sum(col) for c, col in zip(col_totals, zip(*table))]
    # Missing units go to the largest fractional parts first (ties: first cell): with two
    # strata this always completes. With more it can get stuck; the rest is then dealt row
    # by row, which keeps the margins but may move a cell by more than one.
    for _, s, j in sorted((table[s][j] - q, s, j) for s, row in enumerate(quotas)
                          for j, q in enumerate(row) if q > table[s][j]):
        if row_need[s] > 0 and col_need[j] > 0:
            table[s][j] += 1
            row_need[s] -= 1
            col_need[j] -= 1
    for s, row in enumerate(table):
        for j in range(len(row)):
            extra = min(row_need[s], col_need[j])
            row[j] += extra
            row_need[s] -= extra
            col_need[j] -= extra
    return table


def _by_collection(names: Sequence[str], collection_of: Callable[[str], str]) -> list[list[str]]:
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(collection_of(name), []).append(name)
    return [groups[key] for key in sorted(groups)]


def stratified_split(names: Sequence[str], ratios: Sequence[float], seed: int,
                     collection_of: Callable[[str], str]) -> dict[str, list[str]]:
    """Sorted train/val/test names: sizes rounded over all names, each collection in proportion."""
    groups = _by_collection(names, collection_of)
    table = stratum_table([len(g) for g in groups], largest_remainder(len(names), ratios))
    rng = np.random.default_rng(seed)
    splits: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    for group, counts in zip(groups, table):
        order, start = rng.permutation(len(group)), 0
        for split, count in zip(SPLIT_NAMES, counts):
            splits[split] += [group[i] for i in order[start:start + count]]
            start += count
    return {split: sorted(members) for split, members in splits.items()}


def stratified_kfold(names: Sequence[str], num_folds: int, seed: int,
                     collection_of: Callable[[str], str]) -> list[list[str]]:
    """Sorted folds whose sizes differ by at most one, overall and per collection."""
    rng = np.random.default_rng(seed)
    folds: list[list[str]] = [[] for _ in range(num_folds)]
    dealt = 0
    for group in _by_collection(names, collection_of):  # shuffled, dealt round-robin
        for i in rng.permutation(len(group)):
            folds[dealt % num_folds].append(group[i])
            dealt += 1
    return [sorted(fold) for fold in folds]
