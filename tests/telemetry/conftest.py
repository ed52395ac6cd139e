"""A local Application Insights ingestion endpoint, one per test module that asks for it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.ingestion import Ingestion, running


@pytest.fixture(scope="module")
def ingestion() -> Iterator[Ingestion]:
    with running() as recorder:
        yield recorder
