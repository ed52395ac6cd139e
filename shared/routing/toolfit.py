"""How an ask reads against the tools a request offers: pure Python, no I/O.

An agent turn's difficulty is in what the next step must do, and the offered functions say a
lot about that without any model: an ask that one function performs ("Calculate the final
velocity ... given ..." beside `calculate_final_velocity`) is one call, whatever its wording;
an ask that needs several functions, or a function whose required id the ask does not hold
(so another offered function must find it first), is a chain of dependent calls; an ask that
no function touches is answered (or declined) without a call.

Words are compared by a light stem (plural, -ing, -ed, -ation folded, first five letters), so
"streaming" meets `getStreamingServices` and "reminders" meets `EmailReminder`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any


# Words every tool name or ask has, which say nothing about what the function does.
def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_GENERIC = _set(
    """a an the of for to in on at by and or with from into as is are be me my i you your we
    our it its this that these those what which who how when where can could would will
    please do does did want need like help get set give tell show find search query retrieve
    fetch list check look provide make info information detail details data specific given
    based user users api new all about some any one use using by id ids name type value values
    via per more other current"""
)
_NAME_PART = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_WORD = re.compile(r"[a-z][a-z0-9]+")
# A value an id could be: a number of two digits or more, or a code of four characters or more
# with a digit in it ("W5061109", "abcd1234"); not "1km" or "3 pm".
_REFERENCE = re.compile(r"\b\d{2,}\b|\b(?=[\w-]*\d)[\w-]{4,}\b")
_SUFFIXES = ("ations", "ation", "ings", "ing", "ers", "er", "ies", "ed", "es", "s")
# Words that join two asks in one request ("..., then ...", "Additionally, ...").
_LINKS = _set(
    "then also additionally afterwards finally moreover furthermore next once subsequently"
)
# Imperative verbs of tool work: several distinct ones in one ask are several calls.
_ACTIONS = _set(
    """send book create add set get find check calculate convert translate schedule update
    delete cancel remind notify share post save record compare search retrieve fetch generate
    analyze analyse summarize summarise format edit submit upload download buy order reserve
    email text call recommend suggest track monitor register modify remove query lookup
    predict estimate assess identify detect measure plan"""
)
# How many characters of a tool's description are read: its first sentence says what it does.
DESCRIPTION_CHARS = 160
MAX_TOOLS = 64  # beyond this the request's tool list is read no further (latency bound)


def key(word: str) -> str:
    """The light stem two words are compared by."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:5]


def ask_keys(text: str) -> frozenset[str]:
    """The stems of an ask's content words (generic words and two-letter words dropped)."""
    return frozenset(key(w) for w in _WORD.findall(text.lower()) if w not in _GENERIC)


@dataclass(frozen=True, slots=True)
class ToolWords:
    """What one offered function is about: the stems of its name and of its description's
    first sentence, and whether it requires a value another call finds (`animeId`,
    `order_id`, a token, coordinates). `namespace`: the stems of the name only its namespace
    holds, which an ask need not repeat (below)."""

    name: frozenset[str]
    description: frozenset[str]
    needs_id: bool
    namespace: frozenset[str]

    def share(self, asked: frozenset[str]) -> float:
        """The share of the name's stems that the ask holds, a namespace's only where the ask
        holds them: `geometry-area_circle` is performed by "the area of a circle"."""
        wanted = len(self.name) - len(self.namespace - asked)
        return len(self.name & asked) / wanted if wanted else 0.0


# Where a namespace ends and the function's own name starts: Semantic Kernel's OpenAI connector
# sends a plugin's function as `Plugin-function`, MCP gateways send `server__tool`.
_NAMESPACE_END = re.compile(r"-|__")
# Semantic Kernel's .NET functions come as `Plugin_Function` (FullyQualifiedAIFunction): a
# PascalCase word before the first underscore (`WeatherPlugin_get_forecast`), or a lowercase one
# before a capitalised name (`time_ReadFile`). A snake_case name stays one name.
_PLUGIN_PREFIX = re.compile(r"^[A-Z][a-z0-9]+(?:[A-Z][a-z0-9]*)*_|^[a-z][a-z0-9]*_(?=[A-Z][a-z])")


def _own_name(name: str) -> str:
    """A function's name without the namespace before it."""
    return _PLUGIN_PREFIX.sub("", _NAMESPACE_END.split(name)[-1], count=1)


@lru_cache(maxsize=4096)
def tool_words(name: str, description: str, required: tuple[str, ...]) -> ToolWords:
    """Cached: an agent sends the same tool list on every call."""
    name_keys = _name_keys(name)
    own = _name_keys(_own_name(name))
    # an own name of generic words only (`Weather-get`) leaves its namespace to say what it does
    namespace = name_keys - own if own else frozenset()
    described = ask_keys(description[:DESCRIPTION_CHARS])
    needs_id = any(_is_id(r) for r in required)
    return ToolWords(name_keys, described, needs_id, namespace)


def _name_keys(name: str) -> frozenset[str]:
    """The stems of a name's words: `getStreamingServices` -> stream, servi."""
    parts = (p.lower() for p in _NAME_PART.findall(name))
    return frozenset(key(p) for p in parts if len(p) > 2 and p not in _GENERIC)


# Required parameters whose value a user rarely types but another call returns: a session
# token, map coordinates. (Identifiers are told by their form, _is_id.)
_LOOKED_UP = _set("token access_token session latitude longitude lat lon lng coordinates coords")


def _is_id(param: str) -> bool:
    """`id`, `order_id`, `animeId`, `userIDs`, `uuid`, `token`, `latitude`: a value another
    call finds; not `paid` or `android`."""
    lowered = param.lower()
    return (
        lowered in ("id", "ids", "uuid")
        or lowered in _LOOKED_UP
        or lowered.endswith(("_id", "_ids", "-id", "uuid", "_token"))
        or param.endswith(("Id", "ID", "Ids", "IDs", "Token"))
    )


def offered(tools: Sequence[Any] | None) -> tuple[ToolWords, ...]:
    """The offered function tools, read (at most MAX_TOOLS)."""
    out = []
    for tool in (tools or ())[:MAX_TOOLS]:
        function = tool.get("function") if isinstance(tool, Mapping) else None
        if not isinstance(function, Mapping) or not isinstance(function.get("name"), str):
            continue
        description = function.get("description")
        parameters = function.get("parameters")
        required = parameters.get("required") if isinstance(parameters, Mapping) else None
        out.append(
            tool_words(
                function["name"],
                description if isinstance(description, str) else "",
                tuple(r for r in required if isinstance(r, str))
                if isinstance(required, list)
                else (),
            )
        )
    return tuple(out)


@dataclass(frozen=True, slots=True)
class Fit:
    """An ask against the offered tools."""

    best: float  # share of the best-fitting tool's name stems that the ask holds (0..1)
    described: int  # stems the ask shares with the best-fitting tool's description
    needed: int  # tools it takes to cover the ask's stems that any tool name holds (greedy)
    id_gap: bool  # a tool the ask needs requires an id the ask lacks: another function finds it
    links: int  # words that join asks ("then", "additionally") and distinct action verbs


NO_FIT = Fit(0.0, 0, 0, False, 0)


def fit(text: str, tools: Sequence[ToolWords], holds_id: bool) -> Fit:
    """How `text` (an ask) reads against `tools`; `holds_id`: the conversation already has a
    number an id could be (in the ask or an earlier tool result)."""
    lowered = text.lower()
    words = _WORD.findall(lowered)
    joined = sum(1 for w in words if w in _LINKS)
    verbs = {w for w in words if w in _ACTIONS}
    if not tools:
        return Fit(0.0, 0, 0, False, _links(joined, verbs, frozenset()))
    asked = frozenset(key(w) for w in words if w not in _GENERIC)
    best = 0.0
    best_tool = tools[0]
    described = 0
    for tool in tools:
        share = tool.share(asked)
        shared = len(tool.description & asked)
        if (share, shared) > (best, described):
            best, described, best_tool = share, shared, tool
    needed = 0
    uncovered = asked
    picked: list[ToolWords] = []
    while uncovered and needed < len(tools):
        top = max(tools, key=lambda t: len(t.name & uncovered))
        gained = top.name & uncovered
        if not gained:
            break
        needed += 1
        picked.append(top)
        uncovered = uncovered - gained
    if not picked and best > 0:
        picked.append(best_tool)
    # a call can find the id only where another function is offered; beside one function
    # the model asks for it or fills it in from the ask ("the 'R vs Adams' case")
    id_gap = not holds_id and len(tools) > 1 and any(t.needs_id for t in picked)
    named = frozenset(v for v in verbs if key(v) in best_tool.name) if best > 0 else frozenset()
    return Fit(best, described, needed, id_gap, _links(joined, verbs, named))


def _links(joined: int, verbs: set[str], named: frozenset[str]) -> int:
    """Joining words, and distinct action verbs beyond the first; the verbs of the best
    function's own name are one action ("send" and "email" in "Use send_email to send the
    summary"), not two asks joined."""
    actions = len(verbs - named) + (1 if named else 0)
    return joined + max(actions - 1, 0)


def holds_reference(text: str) -> bool:
    """The text holds a value an id, a token or a coordinate could be."""
    return _REFERENCE.search(text) is not None
