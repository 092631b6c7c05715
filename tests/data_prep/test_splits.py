"""Stratified splits and folds: exact sizes, margins, determinism."""
import numpy as np

from data_prep.pennfudan import collection_of
from data_prep.splits import largest_remainder, stratified_kfold, stratified_split, stratum_table

NAMES = [f'FudanPed{i:05d}.png' for i in range(1, 75)] + \
    [f'PennPed{i:05d}.png' for i in range(1, 97)]


def test_largest_remainder():
    assert largest_remainder(170, [.8, .1, .1]) == [136, 17, 17]
    assert largest_remainder(18, [.8, .1, .1]) == [14, 2, 2]
    assert largest_remainder(10, [1, 1, 1]) == [4, 3, 3]


def test_stratum_table_of_penn_fudan():
    assert stratum_table([74, 96], [136, 17, 17]) == [[59, 7, 8], [77, 10, 9]]


def test_stratum_table_keeps_margins_and_shares():
    rng = np.random.default_rng(0)
    for _ in range(500):
        rows = rng.integers(1, 60, rng.integers(1, 6)).tolist()
        cols = largest_remainder(sum(rows), rng.dirichlet(np.ones(rng.integers(2, 6))))
        table = np.array(stratum_table(rows, cols))
        assert table.sum(1).tolist() == rows and table.sum(0).tolist() == cols
        assert (table >= 0).all()
        if len(rows) <= 2:  # Penn-Fudan's case: every cell is its share rounded down or up
            assert np.all(np.abs(table - np.outer(rows, cols) / sum(rows)) < 1)


def test_split_and_folds_of_170_names():
    splits = stratified_split(NAMES, [.8, .1, .1], 0, collection_of)
    assert [len(splits[s]) for s in ('train', 'val', 'test')] == [136, 17, 17]
    for members in splits.values():
        assert {collection_of(n) for n in members} == {'FudanPed', 'PennPed'}
    assert stratified_split(NAMES[::-1], [.8, .1, .1], 0, collection_of) == splits
    assert stratified_split(NAMES, [.8, .1, .1], 1, collection_of) != splits
    folds = stratified_kfold(splits['train'] + splits['val'], 5, 0, collection_of)
    assert sorted(map(len, folds)) == [30, 30, 31, 31, 31]
    assert sorted(sum(folds, [])) == sorted(splits['train'] + splits['val'])
