"""Placeholder local scorer (replaced by the calibrated one)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from shared.api import last_user_text


@dataclass(frozen=True, slots=True)
class Score:
    p_large: float
    signal: str


GREETING = re.compile(
    r"^\s*(hi|hello|hey|thanks|thank you|good (morning|evening))\b[\s!.?]*$", re.I
)
COMPLEX = re.compile(r"\b(plan|step|design|implement|code|calculate|prove|analy[sz]e)\w*", re.I)


def score_request(messages: Sequence[Mapping[str, Any]], *, has_tools: bool = False) -> Score:
    text = last_user_text(messages)
    if has_tools:
        return Score(0.95, "tools")
    if GREETING.match(text):
        return Score(0.02, "greeting")
    if "```" in text or len(text) > 4000:
        return Score(0.95, "code" if "```" in text else "long input")
    if COMPLEX.search(text):
        return Score(0.9, "multi-step")
    return Score(0.5, "unsure")
