"""The user's documentation holds together: the README is short and starts with the two
commands, every relative link in it, docs/ and bench/ resolves (file and heading), the minimal
tier table it shows loads."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from shared.settings import load_settings

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
PAGES = [
    README,
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "bench").glob("*.md")),
    REPO / "devtools" / "emulator" / "README.md",
]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def relative_links(page: Path) -> list[str]:
    text = re.sub(r"```.*?```", "", page.read_text(), flags=re.DOTALL)  # code is not a link
    return [t for t in LINK.findall(text) if not re.match(r"[a-z]+:", t)]


def anchors(page: Path) -> set[str]:
    """GitHub's heading ids: lower case, punctuation dropped, spaces to hyphens."""
    headings = re.findall(r"^#+ (.+)$", page.read_text(), flags=re.MULTILINE)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


def test_the_readme_starts_with_the_two_commands() -> None:
    first_block = re.search(r"```\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert first_block is not None
    assert first_block[1].split("\n")[:2] == ["python3 -m devtools up", "python3 -m devtools test"]
    before = README.read_text()[: first_block.start()]
    assert before.strip() == "# hybrid-router", "nothing but the title before the two commands"


def test_the_readme_is_at_most_300_lines() -> None:
    assert len(README.read_text().splitlines()) <= 300


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for link in relative_links(page):
        path, _, anchor = link.partition("#")
        target = (page.parent / path).resolve() if path else page
        outside = not target.exists() or REPO not in target.parents
        if outside or (anchor and target.suffix == ".md" and anchor not in anchors(target)):
            broken.append(link)
    assert not broken, f"{page.name}: links to nothing in the repository: {broken}"


def test_links_are_checked_at_all() -> None:
    assert len(relative_links(README)) >= 8


def test_the_readmes_minimal_tier_table_loads() -> None:
    example = re.search(r"```json\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert example is not None
    tiers = load_settings({"ROUTER_TIERS": example[1], "FOUNDRY_API_KEY": "k"}).tiers
    assert [t.name for t in tiers] == ["small", "large"]
    assert tiers[0].input_price_per_1m < tiers[1].input_price_per_1m
