"""Deterministic, source-stratified train/val/test splits and K folds.

Penn-Fudan mixes two collections (``FudanPed``, ``PennPed``) with different
scenes, so each split and fold draws from both in proportion. Everything
starts from sorted file names and ``numpy.random.default_rng(seed)``, so the
result depends only on the names, the ratios and the seed.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

SPLIT_NAMES = ('train', 'val', 'test')


def largest_remainder(total: int, weights: Sequence[float]) -> list[int]:
    """Round ``total * w / sum(weights)`` to integers that sum to ``total``.

    Ties between equal remainders go to the earlier weight.
    """
    norm = float(sum(weights))
    quotas = [total * w / norm for w in weights]
    counts = [math.floor(q) for q in quotas]
    order = sorted(
        range(len(quotas)), key=lambda j: (-(quotas[j] - counts[j]), j))
    for j in order[:total - sum(counts)]:
        counts[j] += 1
    return counts


def round_table(row_totals: Sequence[int],
                col_totals: Sequence[int]) -> list[list[int]]:
    """Integer table with the given margins, each cell near its share.

    Cell ``(s, j)`` is ``floor`` or ``ceil`` of
    ``row_totals[s] * col_totals[j] / N``. Such a rounding always exists
    because the fractional parts form a feasible flow with integer margins;
    it is found greedily (largest fractions first) and completed with
    augmenting paths.
    """
    n = sum(row_totals)
    quotas = [[r * c / n for c in col_totals] for r in row_totals]
    table = [[math.floor(q) for q in row] for row in quotas]
    row_need = [r - sum(row) for r, row in zip(row_totals, table)]
    col_need = [
        c - sum(table[s][j] for s in range(len(table)))
        for j, c in enumerate(col_totals)
    ]
    allowed = {(s, j)
               for s, row in enumerate(quotas)
               for j, q in enumerate(row) if q > table[s][j]}
    extra: set[tuple[int, int]] = set()

    def largest_fraction_first(cell: tuple[int, int]) -> tuple:
        s, j = cell
        return table[s][j] - quotas[s][j], cell

    for s, j in sorted(allowed, key=largest_fraction_first):
        if row_need[s] > 0 and col_need[j] > 0:
            extra.add((s, j))
            row_need[s] -= 1
            col_need[j] -= 1

    def augment(start: int) -> bool:
        """Move one unit from row ``start`` to a column still in need."""
        parent: dict[tuple[str, int], tuple[str, int] | None] = {
            ('row', start): None
        }
        queue = [('row', start)]
        while queue:
            kind, idx = node = queue.pop(0)
            if kind == 'row':
                steps = [('col', j) for j in range(len(col_totals))
                         if (idx, j) in allowed and (idx, j) not in extra]
            else:
                steps = [('row', s) for s in range(len(row_totals))
                         if (s, idx) in extra]
            for step in steps:
                if step in parent:
                    continue
                parent[step] = node
                if step[0] == 'col' and col_need[step[1]] > 0:
                    col_need[step[1]] -= 1
                    while parent[step] is not None:
                        prev = parent[step]
                        cell = ((prev[1], step[1]) if step[0] == 'col' else
                                (step[1], prev[1]))
                        extra.symmetric_difference_update({cell})
                        step = prev
                    return True
                queue.append(step)
        return False

    for s in range(len(row_totals)):
        while row_need[s] > 0:
            if not augment(s):  # impossible, see the docstring
                raise RuntimeError('no rounding with the requested margins')
            row_need[s] -= 1
    for s, j in extra:
        table[s][j] += 1
    return table


def group_by_source(names: Sequence[str],
                    source_of: Callable[[str], str]) -> dict[str, list[str]]:
    """Group sorted names by their source, sources in sorted order."""
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(source_of(name), []).append(name)
    return dict(sorted(groups.items()))


def stratified_split(names: Sequence[str], ratios: Sequence[float], seed: int,
                     source_of: Callable[[str], str]) -> dict[str, list[str]]:
    """Split ``names`` into train/val/test, stratified by source.

    The split sizes are the largest-remainder rounding of ``ratios`` over all
    images (136/17/17 for 170 images and 0.8/0.1/0.1); each source's share of
    every split is its proportional share, rounded so that the totals stay
    exact.

    Returns:
        Split name -> sorted file names.
    """
    groups = group_by_source(names, source_of)
    totals = largest_remainder(len(names), ratios)
    table = round_table([len(g) for g in groups.values()], totals)
    rng = np.random.default_rng(seed)
    splits: dict[str, list[str]] = {name: [] for name in SPLIT_NAMES}
    for group, counts in zip(groups.values(), table):
        order = rng.permutation(len(group))
        start = 0
        for split, count in zip(SPLIT_NAMES, counts):
            splits[split].extend(group[i] for i in order[start:start + count])
            start += count
    return {split: sorted(members) for split, members in splits.items()}


def stratified_kfold(names: Sequence[str], num_folds: int, seed: int,
                     source_of: Callable[[str], str]) -> list[list[str]]:
    """Partition ``names`` into ``num_folds`` folds, stratified by source.

    Each source's names are shuffled and dealt round-robin, continuing the
    deal across sources, so fold sizes differ by at most one overall and per
    source.

    Returns:
        The sorted file names of each fold.
    """
    rng = np.random.default_rng(seed)
    folds: list[list[str]] = [[] for _ in range(num_folds)]
    dealt = 0
    for group in group_by_source(names, source_of).values():
        for i in rng.permutation(len(group)):
            folds[dealt % num_folds].append(group[i])
            dealt += 1
    return [sorted(fold) for fold in folds]
