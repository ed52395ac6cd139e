"""Deployment health shared by every instance in Redis: the rules of HealthBook (cooldowns, the
breaker with its one half-open probe, token and request budgets, x-ratelimit-remaining-tokens),
each step one Lua script on one hash per deployment, so every instance reads and changes it
atomically, on Redis's clock (instances' clocks differ).

Round trips: an attempt's admission is one (it checks, charges the budgets and takes the probe
at once); a failure's verdict is one, awaited, so a breaker it opened stops the next retry; a
success's verdict goes out in the background, and only when it changes something (a breaker to
close, failures in the breaker's memory to push out, a remaining-tokens hold), which admission's
reply tells: on a healthy deployment a request makes one round trip. Exact: budgets, the probe,
the breaker and cooldowns at admission. The quick look (`blocked`, no I/O) reads what the last
reply said, for at most MIRROR_S; admission has the last word.

The budget window: 60 s (Azure's quotas are per minute) kept as six 10 s buckets and the
seventh-oldest weighted by how much of it is still inside the window: a sliding window at 10 s
grain, O(1) per request, where a log of every request (the local book's) would grow with traffic.

When Redis is unavailable (link.py) every call goes to this instance's HealthBook instead.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from shared import oplog
from shared.settings import BreakerPolicy
from shared.state.link import RedisLink, Unavailable
from shared.upstream.health import (
    LOW_REMAINING_HOLD_S,
    WINDOW_S,
    Blocked,
    HealthBook,
    Verdict,
    breaker_memory,
    requests_per_minute,
)

MIRROR_S = 1.0  # how long a reply's view of a deployment stands in for asking
BUCKET_MS = 10_000
BUCKETS = int(WINDOW_S * 1000) // BUCKET_MS + 1

# What both scripts start with: Redis's time and the deployment's holds (reason, ms left) for
# any request. KEYS[1]: the deployment's hash.
_PRELUDE = """
local key = KEYS[1]
local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)
local h = redis.call('HMGET', key, 'cool', 'open', 'probe', 'low', 'fails')
local cool, open = tonumber(h[1]) or 0, tonumber(h[2]) or 0
local probe, low = tonumber(h[3]) or 0, tonumber(h[4]) or 0
local fails = h[5] or ''
-- 1 when a success has something to change: a breaker to close, failures to push out of memory.
local function dirty()
  if open > 0 or string.find(fails, '0', 1, true) then return 1 end
  return 0
end
local function hold()
  if cool > now then return 'cooldown', cool - now end
  if open > now then return 'breaker', open - now end
  if open > 0 and probe > now then return 'breaker', probe - now end
  if low > now then return 'budget', low - now end
  return '', 0
end
"""

# ARGV: tokens, tpm (0: none), rpm (0: none), check (1/0), probe lease ms, key ttl ms.
# Returns {transition, refused reason, refused wait ms, hold reason, hold ms, tokens in window,
# dirty}.
ADMIT = (
    _PRELUDE
    + f"""
local tokens, tpm, rpm = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local check, lease, ttl = ARGV[4] == '1', tonumber(ARGV[5]), tonumber(ARGV[6])
local width, slots = {BUCKET_MS}, {BUCKETS}
local bucket = math.floor(now / width)
local names = {{}}
for i = 0, slots - 1 do
  table.insert(names, 'b' .. i); table.insert(names, 't' .. i); table.insert(names, 'r' .. i)
end
local b = redis.call('HMGET', key, unpack(names))
-- oldest first: {{bucket id, weight, tokens, requests}} of the buckets still in the window
local live, used, asked = {{}}, 0, 0
for age = slots - 1, 0, -1 do
  local id = bucket - age
  local i = id % slots
  if tonumber(b[i * 3 + 1]) == id then
    local weight = 1
    if age == slots - 1 then weight = 1 - (now % width) / width end
    local t, r = (tonumber(b[i * 3 + 2]) or 0) * weight, (tonumber(b[i * 3 + 3]) or 0) * weight
    used, asked = used + t, asked + r
    table.insert(live, {{id, t, r}})
  end
end
local reason, wait = hold()
if check and reason == '' and #live > 0 and (asked >= 1 or used > 0) then
  -- an empty window always admits one request, however large
  local over_t = tpm > 0 and used + tokens > tpm
  local over_r = rpm > 0 and asked + 1 > rpm
  if over_t or over_r then
    -- Wait until enough of the oldest buckets has left: bucket id fades out of the window
    -- between (id + slots - 1) * width and (id + slots) * width.
    reason, wait = 'budget', {int(WINDOW_S * 1000)}
    local left_t, left_r = used, asked
    for _, e in ipairs(live) do
      local over_t, over_r = left_t + tokens - tpm, left_r + 1 - rpm
      if (tpm == 0 or over_t <= e[2]) and (rpm == 0 or over_r <= e[3]) then
        local part = 0
        if tpm > 0 and e[2] > 0 then part = math.max(part, over_t / e[2]) end
        if rpm > 0 and e[3] > 0 then part = math.max(part, over_r / e[3]) end
        wait = (e[1] + slots - 1 + math.min(1, part)) * width - now
        break
      end
      left_t, left_r = left_t - e[2], left_r - e[3]
    end
  end
end
if check and reason ~= '' then
  local hr, hw = hold()
  return {{'', reason, math.max(1, math.floor(wait)), hr, hw, math.floor(used), dirty()}}
end
local transition = ''
if tpm > 0 or rpm > 0 then
  local i = bucket % slots
  if tonumber(b[i * 3 + 1]) ~= bucket then
    redis.call('HSET', key, 'b' .. i, bucket, 't' .. i, 0, 'r' .. i, 0)
  end
  redis.call('HINCRBY', key, 't' .. i, tokens)
  redis.call('HINCRBY', key, 'r' .. i, 1)
  used = used + tokens
end
if open > 0 and open <= now and probe <= now then
  probe = now + lease
  redis.call('HSET', key, 'probe', probe)
  transition = 'half-open'
end
redis.call('PEXPIRE', key, ttl)
local hr, hw = hold()
return {{transition, '', 0, hr, hw, math.floor(used), dirty()}}
"""
)

# ARGV: verdict, retry-after ms, low hold ms (0: none), failures to open, memory, cooldown ms,
# key ttl ms. Returns {transition, '', 0, hold reason, hold ms, 0, dirty}.
SETTLE = (
    _PRELUDE
    + """
local verdict, retry_ms, low_ms = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local to_open, memory = tonumber(ARGV[4]), tonumber(ARGV[5])
local cooldown, ttl = tonumber(ARGV[6]), tonumber(ARGV[7])
local transition = ''
local probing = probe > now
if verdict == 'succeeded' or verdict == 'answered' then
  if open > 0 then fails = ''; transition = 'closed' end
  fails = string.sub(fails .. '1', -memory)
  open, probe = 0, 0
  if low_ms > 0 then low = now + low_ms end
elseif verdict == 'fault' then
  fails = string.sub(fails .. '0', -memory)
  local _, failures = string.gsub(fails, '0', '')
  if probing or failures >= to_open then
    open, probe, fails = now + cooldown, 0, ''
    transition = 'open'
  end
elseif verdict == 'throttled' then
  probe = 0
  if retry_ms > 0 then cool = math.max(cool, now + retry_ms) end
else
  probe = 0
end
redis.call('HSET', key, 'cool', cool, 'open', open, 'probe', probe, 'low', low, 'fails', fails)
redis.call('PEXPIRE', key, ttl)
local hr, hw = hold()
return {transition, '', 0, hr, hw, 0, dirty()}
"""
)


@dataclass(frozen=True, slots=True)
class _Seen:
    """What Redis last said of a deployment, in this instance's clock."""

    at: float
    hold: Blocked | None
    hold_until: float
    tokens_in_window: int
    dirty: bool  # a success would change something (see the scripts' dirty())


class SharedHealth:
    """`Health` in Redis, with `local` (this instance's own book) while Redis is unavailable."""

    def __init__(
        self,
        link: RedisLink,
        local: HealthBook,
        probe_lease_s: Mapping[str, float],
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.link = link
        self.local = local
        self.breaker: BreakerPolicy = local.breaker
        self.probe_lease_s = dict(probe_lease_s)
        self.clock = clock
        self._seen: dict[str, _Seen] = {}
        self._admit = link.client.register_script(ADMIT)
        self._settle = link.client.register_script(SETTLE)

    def _key(self, name: str) -> str:
        return f"router:health:{{{name}}}"

    def _ttl_ms(self, name: str) -> int:
        """A deployment's hash outlives its window, its breaker's cooldown and a probe."""
        lease = self.probe_lease_s.get(name, 0.0)
        return int((2 * WINDOW_S + self.breaker.cooldown_s + lease) * 1000)

    def blocked(self, name: str, tokens: int = 0) -> Blocked | None:
        if not self.link.up:
            return self.local.blocked(name, tokens)
        seen = self._seen.get(name)
        now = self.clock()
        if seen is None or seen.hold is None or now - seen.at > MIRROR_S:
            return None
        left = seen.hold_until - now
        return Blocked(seen.hold.reason, left) if left > 0 else None

    async def admit(self, name: str, tokens: int, *, check: bool = True) -> Blocked | None:
        if not await self.link.ready():
            return await self.local.admit(name, tokens, check=check)
        tpm = self.local.tpm.get(name) or 0
        lease_ms = int((self.probe_lease_s.get(name, 0.0) + 1.0) * 1000)
        args = [
            tokens,
            tpm,
            requests_per_minute(tpm) or 0,
            int(check),
            lease_ms,
            self._ttl_ms(name),
        ]
        try:
            reply = await self.link.run(lambda _r: self._admit(keys=[self._key(name)], args=args))
        except Unavailable:
            return await self.local.admit(name, tokens, check=check)
        self._learn(name, reply)
        refused, wait_ms = _text(reply[1]), int(reply[2])
        return Blocked(refused, wait_ms / 1000) if refused else None

    async def settle(self, name: str, verdict: Verdict) -> None:
        if not await self.link.ready():
            self.local.apply(name, verdict)
            return
        args = self._settle_args(name, verdict)
        call = self._settle
        if verdict.kind in ("succeeded", "answered"):  # the common case: nothing waits for it
            seen = self._seen.get(name)
            if seen is not None and not seen.dirty and not args[2]:
                return  # a healthy deployment's success changes nothing there
            self.link.spawn(
                lambda _r: call(keys=[self._key(name)], args=args),
                lambda reply: self._learn(name, reply),
            )
            return
        try:
            reply = await self.link.run(lambda _r: call(keys=[self._key(name)], args=args))
        except Unavailable:
            self.local.apply(name, verdict)
            return
        self._learn(name, reply)

    def release(self, name: str) -> None:
        if not self.link.up:
            self.local.released(name)
            return
        args = self._settle_args(name, Verdict("released"))
        self.link.spawn(lambda _r: self._settle(keys=[self._key(name)], args=args))

    def _settle_args(self, name: str, verdict: Verdict) -> list[Any]:
        low = (
            verdict.kind == "succeeded"
            and verdict.remaining_tokens is not None
            and verdict.remaining_tokens < verdict.needed
        )
        return [
            verdict.kind,
            int((verdict.retry_after_s or 0) * 1000),
            int(LOW_REMAINING_HOLD_S * 1000) if low else 0,
            self.breaker.failures_to_open,
            breaker_memory(self.breaker),
            int(self.breaker.cooldown_s * 1000),
            self._ttl_ms(name),
        ]

    def _learn(self, name: str, reply: list[Any]) -> None:
        """Keep what Redis said for the quick look, and log a breaker change made here (each
        change is made by exactly one instance's script, so it is logged once)."""
        transition, hold, hold_ms = _text(reply[0]), _text(reply[3]), int(reply[4])
        now = self.clock()
        held = Blocked(hold, hold_ms / 1000) if hold else None
        dirty = len(reply) < 7 or bool(int(reply[6]))
        self._seen[name] = _Seen(now, held, now + hold_ms / 1000, int(reply[5]), dirty)
        if transition == "open":
            oplog.breaker(name, "open", self.breaker.cooldown_s)
        elif transition in ("half-open", "closed"):
            oplog.breaker(name, "half-open" if transition == "half-open" else "closed")

    def snapshot(self) -> dict[str, dict[str, Any]]:
        """This instance's book, with what Redis last said of each deployment beside it."""
        view = self.local.snapshot()
        now = self.clock()
        for name, seen in self._seen.items():
            shared = {
                "hold": seen.hold.reason if seen.hold and seen.hold_until > now else None,
                "tokens_in_window": seen.tokens_in_window,
                "seen_s_ago": round(now - seen.at, 3),
            }
            view.setdefault(name, {"tpm": self.local.tpm.get(name)})["shared"] = shared
        return view


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
