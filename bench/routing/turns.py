"""What the next step of each agent-bench row must do (its turn kind), and which public
dataset a source comes from: the rows of the evaluation's tables beside the sources.

The kind follows each source's labelling rule (the agent-bench set's README); the scorer
never sees it, it reads the request's structure (shared/routing/toolfit.py, features.py).
"""

from __future__ import annotations

from bench.routing.data import Prompt
from bench.routing.traffic import Routed, Tier

FIRST_CALL = "first call for a clear ask"
RESULTS = "phrasing an answer from tool results"
NO_CALL = "answer with no call (no tool applies, follow-up)"
CHAIN = "chain of dependent calls"
PLANNING = "planning over many tools / under a policy"
LARGE_OUTPUT = "reasoning over large tool output"
PLAIN_SIMPLE = "no tools, simple"
PLAIN_COMPLEX = "no tools, complex"
KINDS = (FIRST_CALL, RESULTS, NO_CALL, CHAIN, PLANNING, LARGE_OUTPUT, PLAIN_SIMPLE, PLAIN_COMPLEX)

_BY_SOURCE = {
    "sgd_tool_call": FIRST_CALL,
    "apibank_call": FIRST_CALL,
    "sealtools_single": FIRST_CALL,
    "toolalpaca_call": FIRST_CALL,
    "sgd_tool_result": RESULTS,
    "apibank_tool_result": RESULTS,
    "toolalpaca_tool_result": RESULTS,
    "sgd_followup": NO_CALL,
    "apibank_no_call": NO_CALL,
    "sealtools_irrelevant": NO_CALL,
    "sealtools_multi": CHAIN,
    "toolalpaca_multi": CHAIN,
    "apibank_plan": PLANNING,
    "tau_retail": PLANNING,
    "tau_airline": PLANNING,
    "tau_airline_traj": LARGE_OUTPUT,
}
# Sources of one dataset share its style: leaving one of them out leaves its siblings in.
_FAMILY_PREFIXES = ("sgd", "tau", "apibank", "sealtools", "toolalpaca")


def kind_of(p: Prompt) -> str:
    if p.source == "toolsandbox":  # single_tool_call rows simple, dependent calls complex
        return CHAIN if p.is_complex else FIRST_CALL
    kind = _BY_SOURCE.get(p.source)
    if kind is not None:
        return kind
    return PLAIN_COMPLEX if p.is_complex else PLAIN_SIMPLE


def family_of(source: str) -> str:
    """The public dataset a source comes from: `apibank` for apibank_call, apibank_plan, ..."""
    for prefix in _FAMILY_PREFIXES:
        if source.startswith(prefix + "_"):
            return prefix
    return source


def routed(p: Prompt, tier: Tier, local: bool) -> Routed:
    return Routed(p.source, p.is_complex, tier, local, p.has_tools, kind_of(p))
