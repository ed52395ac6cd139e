"""docs/configuration.md's tables, written from the declarations in shared/settings.py.

    .venv/bin/python -m devtools.settings_doc          # rewrite the tables in place
    .venv/bin/python -m devtools.settings_doc --check  # exit 1 when they are out of date

Only the text between the BEGIN/END markers is generated; the rest of the page is prose.
"""

from __future__ import annotations

import re
import sys
from dataclasses import MISSING, fields
from pathlib import Path

from shared.app_settings import table_rows
from shared.settings import KIND_TIMEOUTS, Tier, TierSpec, setting_groups
from shared.upstream.urls import DEFAULT_API_VERSION, MODELS_API_VERSION

PAGE = Path(__file__).resolve().parent.parent / "docs" / "configuration.md"
# Tier keys whose default is a rule, not a value.
TIER_RULES = {
    "endpoint": "`FOUNDRY_ENDPOINT`",
    "url_shape": "named by the endpoint's path, else `v1`",
    "api_version": f"`{MODELS_API_VERSION}` for `models`, else `{DEFAULT_API_VERSION}`",
    "tpm": "none: no token budget",
    "attempt_timeout_s": "`ROUTER_ATTEMPT_TIMEOUT_S`, else by kind",
    "first_token_timeout_s": "`ROUTER_FIRST_TOKEN_TIMEOUT_S`, else by kind",
    "reasoning_effort": "none: the model's own (a reasoning tier's, when the caller names none)",
}


def settings_table() -> str:
    head = ["| setting | default | meaning |", "|---|---|---|"]
    return "\n".join([*head, *table_rows(setting_groups())])


def tier_table() -> str:
    defaults = {f.name: f.default for f in fields(Tier)}
    rows = ["| key | default |", "|---|---|"]
    for key in TierSpec.model_fields:
        default = TIER_RULES.get(key) or _shown(defaults.get(key, MISSING))
        rows.append(f"| `{key}` | {default} |")
    return "\n".join(rows)


def _shown(value: object) -> str:
    if value is MISSING:
        return "required"
    if value is None:
        return ""
    if isinstance(value, frozenset | tuple):
        return f"`{sorted(value)}`"
    return f"`{value}`"


def kind_table() -> str:
    rows = ["| kind | attempt | first token |", "|---|---|---|"]
    for kind, limits in KIND_TIMEOUTS.items():
        rows.append(f"| `{kind}` | {limits.attempt_s:g} s | {limits.first_token_s:g} s |")
    return "\n".join(rows)


TABLES = {"settings": settings_table, "tiers": tier_table, "kinds": kind_table}


def render(page: str) -> str:
    for name, table in TABLES.items():
        pattern = re.compile(rf"(<!-- BEGIN {name} .*?-->\n).*?(<!-- END {name} -->)", re.DOTALL)
        if not pattern.search(page):
            raise ValueError(f"{PAGE} has no BEGIN/END {name} markers")
        page = pattern.sub(lambda m, t=table: m.group(1) + t() + "\n" + m.group(2), page)  # type: ignore[misc]
    return page


def main(argv: list[str]) -> int:
    current = PAGE.read_text()
    wanted = render(current)
    if "--check" in argv:
        if wanted != current:
            print(f"{PAGE} is out of date: run .venv/bin/python -m devtools.settings_doc")
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
