"""The command line of a script that compares checkouts: two or more trees, a label for each."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_trees(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("trees", type=Path, nargs="+", help="two or more router checkouts")
    parser.add_argument("--labels", help="comma-separated, one per tree (default A,B,...)")


def tree_labels(parser: argparse.ArgumentParser, args: argparse.Namespace) -> list[str]:
    default = ",".join(chr(ord("A") + i) for i in range(len(args.trees)))
    labels: list[str] = (args.labels or default).split(",")
    if len(args.trees) < 2 or len(labels) != len(args.trees):
        parser.error("give two or more trees and as many labels")
    return labels
