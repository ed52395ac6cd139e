"""The classification rule: lets the router's small-model classifier work offline.

A request is a classification when a system (or developer) message contains both words
`simple` and `complex` (case-insensitive). Its answer is exactly one word, computed from the
last user message:

    complex  when the message has any indicator of multi-step or expert work:
             - a word starting with one of INDICATOR_STEMS ("implementing", "analysis",
               "optimise" ...), one of INDICATOR_WORDS with its usual endings ("plan",
               "planning", "steps", "code" ...), or one of INDICATOR_PHRASES ("explain why",
               "write a", "write an");
             - digits joined by an arithmetic operator: + * / ^ = % and the
               multiplication and division signs, or a minus with
               spaces around it ("12*7", "3 + 4", "10 - 2"; not "2024-01-05");
             - more than MAX_SIMPLE_WORDS words;
    simple   otherwise.
"""

from __future__ import annotations

import re

MAX_SIMPLE_WORDS = 60

# Word stems matched at the start of a word: "analy" covers analyse, analysis, analytical.
INDICATOR_STEMS: tuple[str, ...] = (
    "architect",
    "implement",
    "algorithm",
    "debug",
    "calculat",
    "analy",
    "evaluat",
    "strateg",
    "optimi",
    "refactor",
    "migrat",
    "derivation",
)

# Whole words (with their usual endings), so "planet" or "computer" stay simple.
INDICATOR_WORDS: tuple[str, ...] = (
    r"plan(?:s|ned|ning)?",
    r"steps?",
    r"design(?:s|ed|ing)?",
    r"cod(?:e|es|ed|ing)",
    r"functions?",
    r"comput(?:e|es|ed|ing|ation|ations)",
    r"solv(?:e|es|ed|ing)",
    r"prov(?:e|es|ed|ing)",
    r"proofs?",
    r"deriv(?:e|es|ed|ing)",
    r"compar(?:e|es|ed|ing|ison|isons)",
    r"trade-?offs?",
    r"essays?",
)

# Phrases, as whole words.
INDICATOR_PHRASES: tuple[str, ...] = (r"explain\s+why", r"write\s+an?")

_INDICATORS = re.compile(
    r"\b(?:"
    + "|".join(re.escape(s) for s in INDICATOR_STEMS)
    + r")|\b(?:"
    + "|".join(INDICATOR_WORDS + INDICATOR_PHRASES)
    + r")\b",
    re.IGNORECASE,
)
# A minus needs spaces around it so dates and ids ("2024-01-05") stay simple.
_ARITHMETIC = re.compile(r"\d\s*(?:[+*/^=%\u00d7\u00f7]|\s-\s)\s*\d")
_SYSTEM_WORDS = (re.compile(r"\bsimple\b", re.I), re.compile(r"\bcomplex\b", re.I))


def is_classification_prompt(system_text: str) -> bool:
    """True when the system text names both classes."""
    return all(p.search(system_text) for p in _SYSTEM_WORDS)


def classify(text: str) -> str:
    """`complex` or `simple` for the last user message, by the rule in the module docstring."""
    if _INDICATORS.search(text):
        return "complex"
    if _ARITHMETIC.search(text):
        return "complex"
    if len(text.split()) > MAX_SIMPLE_WORDS:
        return "complex"
    return "simple"
