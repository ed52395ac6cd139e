"""bench/common/trees.py: checkouts compared side by side, each with a label."""

from __future__ import annotations

import argparse

import pytest

from bench.common.trees import add_trees, tree_labels


def labels(*argv: str) -> list[str]:
    parser = argparse.ArgumentParser()
    add_trees(parser)
    return tree_labels(parser, parser.parse_args(argv))


def test_trees_are_labelled_in_order_or_as_given() -> None:
    assert labels("/a", "/b", "/c") == ["A", "B", "C"]
    assert labels("/a", "/b", "--labels", "main,mine") == ["main", "mine"]


@pytest.mark.parametrize("argv", [("/a",), ("/a", "/b", "--labels", "main")])
def test_one_tree_or_a_missing_label_is_refused(argv: tuple[str, ...]) -> None:
    with pytest.raises(SystemExit):
        labels(*argv)
