"""The configuration reference is written from the settings' declarations, never by hand."""

from __future__ import annotations

from devtools import settings_doc
from shared.app_settings import declared
from shared.settings import DEFAULT_TIERS, TierSources, setting_groups


def test_the_reference_page_is_what_the_declarations_write() -> None:
    page = settings_doc.PAGE.read_text()
    assert settings_doc.render(page) == page, "run .venv/bin/python -m devtools.settings_doc"


def test_every_declared_setting_is_on_the_page_with_its_default() -> None:
    page = settings_doc.PAGE.read_text()
    table = settings_doc.settings_table()
    for group in setting_groups():
        for _, spec in declared(group):
            row = next(line for line in table.splitlines() if line.startswith(f"| `{spec.name}` |"))
            assert row in page


def test_each_default_tiers_own_endpoint_is_a_declared_setting() -> None:
    names = {spec.name for _, spec in declared(TierSources)}
    assert all(tier.endpoint_setting in names for tier in DEFAULT_TIERS if tier.endpoint_setting)
