"""Where things run on this (2-core, shared) machine: the system under test on one core, the
load generator and the upstream on the other, so the two never compete for a core."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Layout:
    gateway: list[int]  # the router or the peer being measured
    load: list[int]  # wrk and the (fake or emulated) upstream

    def describe(self) -> str:
        if not self.gateway:
            return "unpinned"
        return f"gateway on CPU {self.gateway}, load generator + upstream on CPU {self.load}"


def layout(pin: bool) -> Layout:
    cores = sorted(os.sched_getaffinity(0))
    if not pin or len(cores) < 2:
        return Layout([], [])
    return Layout([cores[0]], cores[1:])
