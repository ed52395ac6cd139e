"""App settings declared on dataclass fields, read and documented from that one declaration.

`setting(...)` is a dataclass field that carries its app setting's name, its default, its
bounds and what it means. `read_group` reads a whole group of them from the environment, and
`table_rows` writes the configuration reference, so a setting's name, default and parse are
never written twice. shared/settings.py declares every group.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, MutableMapping
from dataclasses import MISSING, Field, dataclass, field, fields
from typing import Any, TypeVar

METADATA_KEY = "app_setting"

G = TypeVar("G")

Options = tuple[str, ...] | Callable[[], Iterable[str]]
DefaultFrom = Callable[[Mapping[str, object]], object]
"""Unset, the value is computed from the settings read before it (by app setting name)."""


class ConfigError(ValueError):
    """A setting is missing or malformed; the message names it."""

    def __init__(self, setting: str, problem: str) -> None:
        super().__init__(f"{setting}: {problem}")
        self.setting = setting


@dataclass(frozen=True, slots=True)
class AppSetting:
    """How one app setting is read into its field. The field's default is the setting's
    default (in the field's unit); its type follows from it: a number when `low` is given
    (whole when the default is an int), a choice when `options` are, else text (None: unset)."""

    name: str
    meaning: str
    low: float | None = None
    # The setting's unit per field unit: a setting in ms read into a field in s has 1000.
    unit: float = 1.0
    options: Options = ()
    default_from: DefaultFrom | None = None
    shown: str | None = None  # the default as the reference shows it, when not a plain value
    names_tier: bool = False  # the value must be a tier's name (checked once tiers are read)


@dataclass(frozen=True, slots=True)
class _Follows:
    setting: str

    def __call__(self, read: Mapping[str, object]) -> object:
        return read[self.setting]


def setting(
    name: str,
    default: object = None,
    *,
    meaning: str,
    low: float | None = None,
    unit: float = 1.0,
    options: Options = (),
    follows: object = None,
    default_from: DefaultFrom | None = None,
    shown: str | None = None,
    names_tier: bool = False,
    secret: bool = False,
) -> Any:
    """A field read from app setting `name`. `follows` (another setting's field, declared
    before this one) makes that setting's value this one's default; `secret` keeps it out of
    repr."""
    if follows is not None:
        # In a class body a field's name is its Field; another group's is `field_of(...)`.
        assert isinstance(follows, Field), "follows names a declared setting's field"
        followed = declaration(follows)
        default = follows.default
        default_from = _Follows(followed.name)
        shown = shown or f"`{followed.name}`"
    spec = AppSetting(name, meaning, low, unit, options, default_from, shown, names_tier)
    return field(default=default, repr=not secret, metadata={METADATA_KEY: spec})


def declaration(of: Field[Any]) -> AppSetting:
    spec = of.metadata.get(METADATA_KEY)
    if not isinstance(spec, AppSetting):
        raise TypeError(f"field {of.name!r} declares no app setting")
    return spec


def field_of(group: type, name: str) -> Field[Any]:
    """A group's declared field, e.g. to follow a setting of another group."""
    return next(f for f in fields(group) if f.name == name)


def declared(group: type) -> list[tuple[Field[Any], AppSetting]]:
    return [(f, declaration(f)) for f in fields(group)]


def read_group(
    group: Callable[..., G], env: Mapping[str, str], read: MutableMapping[str, object]
) -> G:
    """The group's value from `env`; records each value in `read` under its setting's name."""
    values: dict[str, object] = {}
    for f, spec in declared(group):  # type: ignore[arg-type]
        value = _read(spec, f.default, env, read)
        read[spec.name] = values[f.name] = value
    return group(**values)


def _read(
    spec: AppSetting, default: object, env: Mapping[str, str], read: Mapping[str, object]
) -> object:
    raw = env.get(spec.name, "").strip()
    if not raw:
        value = spec.default_from(read) if spec.default_from is not None else default
    elif spec.low is not None:
        value = _number(spec, raw) / spec.unit
    else:
        value = raw
    if spec.options:
        options = tuple(spec.options() if callable(spec.options) else spec.options)
        if value not in options:
            raise ConfigError(spec.name, f"must be one of {list(options)}, got {value!r}")
    if isinstance(default, int) and value is not None:
        try:
            return int(value)  # type: ignore[call-overload]
        except (ValueError, OverflowError):
            raise ConfigError(spec.name, f"must be a whole number, got {raw!r}") from None
    return value


def _number(spec: AppSetting, raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(spec.name, f"must be a number, got {raw!r}") from None
    # nan passes every `<` test and inf never ends a timeout: neither is a setting.
    if not math.isfinite(value):
        raise ConfigError(spec.name, f"must be a finite number, got {raw!r}")
    if spec.low is not None and value < spec.low:
        raise ConfigError(spec.name, f"must be at least {spec.low:g}, got {raw}")
    return value


def shown_default(f: Field[Any], spec: AppSetting) -> str:
    """The default as the configuration reference shows it ('' when there is none)."""
    if spec.shown is not None:
        return spec.shown
    value = f.default
    if value is MISSING or value is None or value == "":
        return ""
    if isinstance(value, str):
        return f"`{value}`"
    number = float(value) * spec.unit
    whole = math.isfinite(number) and number == int(number)
    return f"`{int(number) if whole else number}`"


def table_rows(groups: Iterable[type]) -> list[str]:
    """One markdown table row per declared setting: name, default, meaning."""
    return [
        f"| `{spec.name}` | {shown_default(f, spec)} | {spec.meaning} |"
        for group in groups
        for f, spec in declared(group)
    ]
