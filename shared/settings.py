"""App settings -> one frozen Settings object, validated once at start-up.

Every setting the router reads is declared once, here, as a field of the group it belongs to:
its app setting's name, its default, its bounds and what it means (`setting(...)`,
shared/app_settings.py). Reading, validation and the reference in docs/configuration.md all
derive from that declaration; each component takes its group (`settings.retry` is the
RetryPolicy the resilience layer runs, `settings.breaker` the BreakerPolicy of the health book).

To add a setting, add a field to its group, e.g. in Limits:

    max_upstream_bytes: int = setting(
        "ROUTER_MAX_UPSTREAM_BYTES", 16 * 1024 * 1024, low=1024, meaning="..."
    )

A number takes `low`; an int default makes it a whole number; `options` makes it a choice;
no default (None) leaves it unset; `follows=` another field makes that setting's value its
default; `secret=True` keeps it out of repr. A new group is a frozen dataclass of such fields
and a field of Settings (`field(default_factory=TheGroup)`; groups are read in that order).
Then run `.venv/bin/python -m devtools.settings_doc` to refresh docs/configuration.md.

To add a default tier (used when ROUTER_TIERS is not set), add a DefaultTier to DEFAULT_TIERS:
its name, a ROUTER_TIERS entry, and optionally the name of a TierSources setting that gives it
an endpoint of its own. A tier's keys are TierSpec's (validated as written); their defaults
are Tier's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic import ValidationError as TierError

from shared.app_settings import ConfigError as ConfigError
from shared.app_settings import declared, field_of, read_group, setting
from shared.upstream.urls import (
    DEFAULT_API_VERSION,
    DEFAULT_EXTRA_PARAMETERS,
    ExtraParameters,
    UrlShape,
    default_api_version,
    is_http_url,
    shape_endpoint,
    shape_in,
)

# The upstream APIs a tier's deployment has: Azure OpenAI models have both, others chat only.
API_NAMES = ("chat", "responses")
AuthMode = Literal["key", "entra"]
TierKind = Literal["fast", "reasoning"]
ReasoningEffort = Literal["minimal", "low", "medium", "high"]
TOOL_LOOPS = ("per-turn", "sticky")


@dataclass(frozen=True, slots=True)
class KindTimeouts:
    attempt_s: float
    first_token_s: float


# Defaults that suit a fallback chain. A non-reasoning model (Phi-4-mini, gpt-4o) starts
# streaming in well under a second and writes a long JSON answer in seconds, so one that has
# not answered in 20 s (first token: 5 s) is hung and the next tier should have the request.
# A reasoning model (GPT-5, o-series) thinks before its first token, for minutes at high effort.
KIND_TIMEOUTS: dict[TierKind, KindTimeouts] = {
    "fast": KindTimeouts(attempt_s=20.0, first_token_s=5.0),
    "reasoning": KindTimeouts(attempt_s=180.0, first_token_s=120.0),
}


@dataclass(frozen=True, slots=True)
class Tier:
    """One model deployment the router can send work to. Its defaults are a ROUTER_TIERS
    entry's defaults."""

    name: str
    deployment: str
    endpoint: str
    url_shape: UrlShape = "v1"
    api_version: str = DEFAULT_API_VERSION
    # The models shape's `extra-parameters` header; other shapes send none.
    extra_parameters: ExtraParameters = DEFAULT_EXTRA_PARAMETERS
    input_price_per_1m: float = 0.0
    output_price_per_1m: float = 0.0
    context_window: int = 128_000
    capabilities: frozenset[str] = frozenset()
    tpm: int | None = None
    fallbacks: tuple[str, ...] = ()
    apis: frozenset[str] = frozenset({"chat"})
    # None: from the tier's kind (KIND_TIMEOUTS) or ROUTER_ATTEMPT_TIMEOUT_S / ..._FIRST_TOKEN_...
    attempt_timeout_s: float | None = None
    first_token_timeout_s: float | None = None
    # A reasoning tier's effort when the caller names none (e.g. "minimal" for a small model).
    reasoning_effort: ReasoningEffort | None = None

    @property
    def reasoning(self) -> bool:
        return "reasoning" in self.capabilities

    @property
    def speaks_responses(self) -> bool:
        return "responses" in self.apis

    @property
    def kind(self) -> TierKind:
        return "reasoning" if self.reasoning else "fast"

    @property
    def attempt_limit_s(self) -> float:
        """One attempt's limit: connect, headers and the whole JSON body."""
        return self.attempt_timeout_s or KIND_TIMEOUTS[self.kind].attempt_s

    @property
    def first_token_limit_s(self) -> float:
        """A stream's limit until its first event."""
        return self.first_token_timeout_s or KIND_TIMEOUTS[self.kind].first_token_s


# The tiers used when ROUTER_TIERS is not set: ROUTER_TIERS entries, plus the app setting that
# gives each its own endpoint (else FOUNDRY_ENDPOINT). The same three deployments as
# infra/main.bicep (docs/deployment.md says why these models). List prices per 1M tokens; check
# yours. The prices are also the ladder eligibility walks up: small < small-tools < large.
SMALL_DEFAULT = {
    "deployment": "Phi-4-mini",
    "url_shape": "models",
    "input_price_per_1m": 0.075,
    "output_price_per_1m": 0.30,
    "context_window": 131_072,
    # Text only: Foundry's catalog lists Phi-4-mini-instruct with "Tool calling: No" and
    # "Response formats: Text" (Microsoft Learn, "Foundry Models from partners and community",
    # learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/models-from-partners).
    # So requests with tools, images or a JSON response format go to a tier that declares them.
    "capabilities": [],
}
SMALL_TOOLS_DEFAULT = {
    "deployment": "gpt-5-nano",
    # OpenAI's gpt-5-nano model page; Azure's Global deployment bills the same.
    "input_price_per_1m": 0.05,
    "output_price_per_1m": 0.40,
    "context_window": 400_000,
    # The small model that calls functions and follows a JSON schema (OpenAI's model page:
    # function calling, structured outputs, image input), so a simple agent turn stays small.
    "capabilities": ["reasoning", "tools", "vision", "json_schema"],
    "apis": ["chat", "responses"],
    # Its default effort (medium) thinks for seconds before a tool call; minimal answers in
    # about a second (docs/deployment.md, "Model choice").
    "reasoning_effort": "minimal",
}
LARGE_DEFAULT = {
    "deployment": "gpt-5",
    "input_price_per_1m": 1.25,
    "output_price_per_1m": 10.00,
    "context_window": 400_000,
    # GPT-5: reasoning, structured outputs, text and image input, functions, tools and parallel
    # tool calling (Microsoft Learn, "Foundry Models sold directly by Azure", GPT-5 capabilities,
    # learn.microsoft.com/azure/ai-foundry/foundry-models/concepts/models-sold-directly-by-azure).
    "capabilities": ["reasoning", "tools", "vision", "json_schema"],
    "apis": ["chat", "responses"],
}


@dataclass(frozen=True, slots=True)
class DefaultTier:
    name: str
    spec: Mapping[str, object]  # a ROUTER_TIERS entry without its name
    endpoint_setting: str | None = None  # a TierSources setting naming its own endpoint
    # Else the account (scheme and host) of this setting's endpoint: a model on the same account.
    account_setting: str | None = None


DEFAULT_TIERS = (
    DefaultTier("small", SMALL_DEFAULT, "PHI4_MINI_ENDPOINT"),
    # An OpenAI model like GPT-5, on the v1 route of GPT-5's account unless told otherwise.
    DefaultTier("small-tools", SMALL_TOOLS_DEFAULT, "GPT5_NANO_ENDPOINT", "GPT5_ENDPOINT"),
    DefaultTier("large", LARGE_DEFAULT, "GPT5_ENDPOINT"),
)


# --- The app settings, by group ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TierSources:
    """What the tier table is built from (not kept: Settings.tiers is the result)."""

    table: str = setting(
        "ROUTER_TIERS",
        "",
        shown=", ".join(f"{t.name} = {t.spec['deployment']}" for t in DEFAULT_TIERS),
        meaning="JSON array of tiers ([below](#tiers))",
    )
    endpoint: str = setting(
        "FOUNDRY_ENDPOINT",
        "",
        meaning="the Foundry / Azure OpenAI account URL, e.g. `https://acct.openai.azure.com`",
    )
    phi4_mini_endpoint: str = setting(
        "PHI4_MINI_ENDPOINT",
        "",
        shown="`FOUNDRY_ENDPOINT`",
        meaning="for local work: the default small tier's own endpoint (account URL or full "
        "chat-completions URL)",
    )
    gpt5_nano_endpoint: str = setting(
        "GPT5_NANO_ENDPOINT",
        "",
        shown="`GPT5_ENDPOINT`'s account, else `FOUNDRY_ENDPOINT`",
        meaning="for local work: the default small-tools tier's own endpoint (account URL or full "
        "chat-completions URL)",
    )
    gpt5_endpoint: str = setting(
        "GPT5_ENDPOINT",
        "",
        shown="`FOUNDRY_ENDPOINT`",
        meaning="for local work: the default large tier's own endpoint (account URL or full "
        "chat-completions URL)",
    )
    # Set, these apply to every tier that doesn't set its own (else: the tier's kind decides).
    attempt_timeout_s: float | None = setting(
        "ROUTER_ATTEMPT_TIMEOUT_S",
        low=0.01,
        shown="per tier",
        meaning="one JSON attempt (connect, headers and the whole body); set, it applies to every "
        "tier without its own `attempt_timeout_s` (else: by the tier's kind)",
    )
    first_token_timeout_s: float | None = setting(
        "ROUTER_FIRST_TOKEN_TIMEOUT_S",
        low=0.01,
        shown="per tier",
        meaning="a stream until its first event; set, it applies to every tier without its own "
        "`first_token_timeout_s` (else: by the tier's kind)",
    )


def _preset_names() -> tuple[str, ...]:
    from shared.routing.presets import PRESETS  # late: keeps settings free of routing at import

    return tuple(PRESETS)


@dataclass(frozen=True, slots=True)
class RoutingSettings:
    small_tier: str = setting(
        "ROUTER_SMALL_TIER", "small", names_tier=True, meaning="the tier simple work goes to"
    )
    large_tier: str = setting(
        "ROUTER_LARGE_TIER", "large", names_tier=True, meaning="the tier complex work goes to"
    )
    classifier_tier: str = setting(
        "ROUTER_CLASSIFIER_TIER",
        follows=small_tier,
        names_tier=True,
        meaning="who classifies unclear requests",
    )
    default_tier: str = setting(
        "ROUTER_DEFAULT_TIER",
        follows=large_tier,
        names_tier=True,
        meaning="the safe default when the classifier can't say",
    )
    preset: str = setting(
        "ROUTER_PRESET",
        "balanced",
        options=_preset_names,
        meaning="`cost`, `balanced`, `quality`, or `classifier` (the scorer never decides)",
    )
    # A tool-result turn: decided on its own ("per-turn") or on the tier that began the loop.
    tool_loop: str = setting(
        "ROUTER_TOOL_LOOP",
        "per-turn",
        options=TOOL_LOOPS,
        meaning="`per-turn`: every agent turn decided on its own; `sticky`: a turn that reads "
        "tool results stays on the tier that began the loop (see "
        "[routing.md](routing.md#sessions-and-tool-loops))",
    )
    speculate: str = setting(
        "ROUTER_SPECULATE",
        "on",
        options=("on", "off"),
        meaning="`on`: while the classifier decides, the answer starts on the tier a simple "
        "verdict gives, and is dropped on a complex one (see "
        "[routing.md](routing.md#answering-while-the-classifier-decides)); `off`: the answer "
        "waits for the verdict",
    )


def _key_when_a_key_is_set(read: Mapping[str, object]) -> object:
    return "key" if read["FOUNDRY_API_KEY"] else "entra"


@dataclass(frozen=True, slots=True)
class AuthSettings:
    api_key: str | None = setting(
        "FOUNDRY_API_KEY",
        secret=True,
        meaning="api key for local work; its presence makes `key` the default auth mode",
    )
    mode: AuthMode = setting(
        "ROUTER_AUTH_MODE",
        "entra",
        options=("key", "entra"),
        default_from=_key_when_a_key_is_set,
        shown="`key` with a key, else `entra`",
        meaning="`key` or `entra` (managed identity / DefaultAzureCredential)",
    )
    token_scope: str = setting(
        "ROUTER_TOKEN_SCOPE",
        "https://cognitiveservices.azure.com/.default",
        meaning="Entra token scope",
    )
    managed_identity_client_id: str | None = setting(
        "AZURE_CLIENT_ID", meaning="client id of a user-assigned managed identity"
    )


@dataclass(frozen=True, slots=True)
class ClassifierSettings:
    timeout_s: float = setting(
        "ROUTER_CLASSIFIER_TIMEOUT_MS",
        1.0,
        low=1,
        unit=1000,
        meaning="after this many milliseconds the safe default applies",
    )
    cache_ttl_s: float = setting(
        "ROUTER_CLASSIFIER_CACHE_TTL_S",
        300.0,
        low=0,
        meaning="how long a verdict is cached, keyed by what the classifier read (the "
        "normalized last user message, after the agent turn's one-line description)",
    )
    cache_size: int = setting(
        "ROUTER_CLASSIFIER_CACHE_SIZE", 10_000, low=0, meaning="verdicts cached per instance"
    )


@dataclass(frozen=True, slots=True)
class SessionSettings:
    ttl_s: float = setting(
        "ROUTER_SESSION_TTL_S",
        1800.0,
        low=0,
        meaning="how long an escalated session stays on the large tier",
    )
    max_sessions: int = setting(
        "ROUTER_SESSION_MAX", 100_000, low=0, meaning="sessions remembered per instance"
    )


@dataclass(frozen=True, slots=True)
class Limits:
    """What one request may weigh and take, and the connection limits of its upstream calls."""

    max_body_bytes: int = setting(
        "ROUTER_MAX_BODY_BYTES", 4 * 1024 * 1024, low=1024, meaning="larger bodies get 413"
    )
    body_timeout_s: float = setting(
        "ROUTER_BODY_TIMEOUT_S",
        30.0,
        low=0.01,
        meaning="to receive the request body; a stalled one gets 408",
    )
    # Azure's front end drops an HTTP trigger's request after 230 s: answer before it does.
    request_timeout_s: float = setting(
        "ROUTER_REQUEST_TIMEOUT_S",
        220.0,
        low=0.1,
        meaning="total budget of one request from its arrival: body, decision, retries and "
        "failovers (Azure's front end cuts an HTTP trigger at 230 s)",
    )
    connect_timeout_s: float = setting(
        "ROUTER_CONNECT_TIMEOUT_S", 5.0, low=0.01, meaning="to open a connection to a deployment"
    )
    stream_idle_timeout_s: float = setting(
        "ROUTER_STREAM_IDLE_TIMEOUT_S",
        30.0,
        low=0.01,
        meaning="streams: cut a stream that stalls this long after its first event",
    )
    stream_max_s: float = setting(
        "ROUTER_STREAM_MAX_S",
        follows=request_timeout_s,
        low=0.1,
        meaning="streams: end a stream this long after its headers, with its own cause "
        "(`stream_max_duration`); Azure's front end cuts only idle connections",
    )
    max_answer_bytes: int = setting(
        "ROUTER_MAX_ANSWER_BYTES",
        0,
        low=0,
        meaning="a JSON answer larger than this fails over (`0`: what its tier can write, the "
        "context window at 64 bytes a token)",
    )


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries per deployment (shared/upstream/resilience.py)."""

    max_attempts: int = setting(
        "ROUTER_MAX_ATTEMPTS", 3, low=1, meaning="attempts per deployment before failing over"
    )
    backoff_base_s: float = setting(
        "ROUTER_BACKOFF_BASE_S",
        1.0,
        low=0,
        meaning="first wait of the exponential backoff with jitter, when the deployment gives "
        "no Retry-After",
    )
    backoff_max_s: float = setting(
        "ROUTER_BACKOFF_MAX_S", 8.0, low=0, meaning="the longest backoff wait"
    )
    max_wait_s: float = setting(
        "ROUTER_MAX_RETRY_WAIT_S",
        10.0,
        low=0,
        meaning="a longer Retry-After fails over instead of waiting",
    )


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    """A deployment's circuit breaker (shared/upstream/health.py)."""

    failures_to_open: int = setting(
        "ROUTER_BREAKER_FAILURES",
        5,
        low=1,
        meaning="failures among the last calls that open a deployment's breaker",
    )
    cooldown_s: float = setting(
        "ROUTER_BREAKER_COOLDOWN_S", 30.0, low=0, meaning="how long an open breaker stays open"
    )


@dataclass(frozen=True, slots=True)
class ResponsesStorage:
    """Responses API state (shared/responses/store.py): blob storage, else in-process."""

    connection_string: str | None = setting(
        "ROUTER_RESPONSES_CONNECTION_STRING",
        secret=True,
        meaning="instead of a blob URL, a connection string: Azurite only",
    )
    host_blob_url: str | None = setting(
        "AzureWebJobsStorage__blobServiceUri",
        meaning="the Functions host's identity-based storage: the app's own account",
    )
    blob_url: str | None = setting(
        "ROUTER_RESPONSES_BLOB_URL",
        follows=host_blob_url,
        meaning="blob service of the Responses state (managed identity)",
    )
    container: str = setting(
        "ROUTER_RESPONSES_CONTAINER", "router-responses", meaning="where stored responses live"
    )
    ttl_s: float = setting(
        "ROUTER_RESPONSES_TTL_S",
        30 * 24 * 3600.0,
        low=1,
        meaning="how long a stored response lives (30 days)",
    )
    # By default what one request body may carry inline, so that continuing by id is no way
    # around ROUTER_MAX_BODY_BYTES.
    max_chain_bytes: int = setting(
        "ROUTER_RESPONSES_MAX_CHAIN_BYTES",
        follows=field_of(Limits, "max_body_bytes"),
        low=1024,
        meaning="what one conversation (a `previous_response_id` chain and the new input) may "
        "weigh; over it a 400 `context_length_exceeded`",
    )
    # Past it, one append blob per conversation (linear storage). bench/responses.py, part 4.
    inline_bytes: int = setting(
        "ROUTER_RESPONSES_INLINE_BYTES",
        64 * 1024,
        low=0,
        meaning="a conversation up to this size is kept whole in each response's blob (one read "
        "per turn); past it, in one append blob per conversation (`0`: always)",
    )
    timeout_s: float = setting(
        "ROUTER_RESPONSES_STORE_TIMEOUT_S",
        5.0,
        low=0.01,
        meaning="each storage call, and all reads before a model is asked; slower or down: a "
        "503 before the model, the answer unstored (`store: false`) after it",
    )


REDIS_SCHEMES = ("redis", "rediss", "unix")


@dataclass(frozen=True, slots=True)
class SharedState:
    """State every instance of the app shares (shared/state/): Redis, else each its own."""

    redis_url: str | None = setting(
        "ROUTER_REDIS_URL",
        secret=True,
        meaning="the state every instance shares: token and request budgets, breakers, "
        "escalated sessions, classifier verdicts ([scaling.md](scaling.md)); "
        "`redis://host:port` locally, `rediss://host:10000` in Azure (no password: the app's "
        "managed identity, `AZURE_CLIENT_ID`, signs in with an Entra token). Unset: each "
        "instance keeps its own",
    )
    timeout_s: float = setting(
        "ROUTER_REDIS_TIMEOUT_MS",
        0.1,
        low=1,
        unit=1000,
        meaning="the most a request waits on Redis; past it the instance goes on with its own "
        "state and checks every 5 s whether Redis is back",
    )


@dataclass(frozen=True, slots=True)
class Settings:
    tiers: tuple[Tier, ...]
    # Read in this order: a setting that follows another comes after it.
    routing: RoutingSettings = field(default_factory=RoutingSettings)
    auth: AuthSettings = field(default_factory=AuthSettings)
    classifier: ClassifierSettings = field(default_factory=ClassifierSettings)
    sessions: SessionSettings = field(default_factory=SessionSettings)
    limits: Limits = field(default_factory=Limits)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    breaker: BreakerPolicy = field(default_factory=BreakerPolicy)
    responses: ResponsesStorage = field(default_factory=ResponsesStorage)
    shared: SharedState = field(default_factory=SharedState)

    def tier(self, name: str) -> Tier:
        for tier in self.tiers:
            if tier.name == name:
                return tier
        raise KeyError(name)

    def find_pin(self, model: str) -> Tier | None:
        """The tier a `model` value pins to: a tier name or a deployment name."""
        for tier in self.tiers:
            if model in (tier.name, tier.deployment):
                return tier
        return None

    def summary(self) -> dict[str, object]:
        """What /api/health shows: the shape of the configuration, never a secret."""
        return {
            "auth_mode": self.auth.mode,
            "preset": self.routing.preset,
            "small_tier": self.routing.small_tier,
            "large_tier": self.routing.large_tier,
            "default_tier": self.routing.default_tier,
            "shared_state": "redis" if self.shared.redis_url else "per-instance",
            "tiers": [
                {
                    "name": t.name,
                    "deployment": t.deployment,
                    "host": urlsplit(t.endpoint).hostname,
                    "url_shape": t.url_shape,
                    "capabilities": sorted(t.capabilities),
                    "apis": sorted(t.apis),
                    "tpm": t.tpm,
                    "fallbacks": list(t.fallbacks),
                    "attempt_timeout_s": t.attempt_limit_s,
                    "first_token_timeout_s": t.first_token_limit_s,
                }
                for t in self.tiers
            ],
        }


# Settings' groups (each field's default_factory is its group's class), in reading order.
_GROUPS: dict[str, type] = {
    f.name: f.default_factory  # type: ignore[misc]
    for f in fields(Settings)
    if f.name != "tiers"
}


def setting_groups() -> tuple[type, ...]:
    """Every group of app settings, in reading order."""
    return (TierSources, *_GROUPS.values())


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Read the app settings (environment by default) into Settings, or raise ConfigError."""
    env = os.environ if env is None else env
    read: dict[str, object] = {}
    tiers = _tier_table(read_group(TierSources, env, read), read)
    groups = {name: read_group(group, env, read) for name, group in _GROUPS.items()}
    settings = Settings(tiers, **groups)
    _check(settings)
    return settings


def _check(settings: Settings) -> None:
    """The rules between settings: tier names name tiers; key auth has a key."""
    names = [t.name for t in settings.tiers]
    for name, group in _GROUPS.items():
        for f, spec in declared(group):
            value = getattr(getattr(settings, name), f.name)
            if spec.names_tier and value not in names:
                raise ConfigError(spec.name, f"names tier {value!r}, which is not one of {names}")
    for tier in settings.tiers:
        for fallback in tier.fallbacks:
            if fallback not in names:
                raise ConfigError(
                    "ROUTER_TIERS", f"tier {tier.name!r} falls back to unknown tier {fallback!r}"
                )
    if settings.auth.mode == "key" and not settings.auth.api_key:
        raise ConfigError("FOUNDRY_API_KEY", "is required when ROUTER_AUTH_MODE is 'key'")
    url = settings.shared.redis_url
    if url and urlsplit(url).scheme not in REDIS_SCHEMES:
        raise ConfigError("ROUTER_REDIS_URL", "must be a redis://, rediss:// or unix:// URL")


# --- The tier table ---------------------------------------------------------------------------


def _not_null(value: object) -> object:
    if value is None:
        raise ValueError("must not be null")
    return value


def _given(value: object) -> object:
    """An empty value (null, "", 0) is no value: the key's default applies."""
    return value or None


def _given_text(value: object) -> object:
    return str(value) if value else None


def _chat_and_known(apis: list[str] | None) -> list[str] | None:
    if apis is not None and (set(apis) - set(API_NAMES) or "chat" not in apis):
        raise ValueError(f"must list 'chat' and may add 'responses', got {apis!r}")
    return apis


Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
NonNegative = Annotated[float, Field(ge=0)]
Positive = Annotated[float, Field(gt=0)]
Given = BeforeValidator(_given)
NotNull = BeforeValidator(_not_null)  # may be left out, but not set to null


class TierSpec(BaseModel):
    """One ROUTER_TIERS entry as written. A key left out takes Tier's default, except the
    URL shape (named by the endpoint's path, else v1) and its API version."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)

    name: Name
    deployment: Name
    endpoint: Annotated[str | None, Given] = None  # else FOUNDRY_ENDPOINT
    url_shape: Annotated[UrlShape | None, Given] = None
    api_version: Annotated[str | None, BeforeValidator(_given_text)] = None
    extra_parameters: Annotated[ExtraParameters | None, Given] = None
    input_price_per_1m: Annotated[NonNegative | None, NotNull] = None
    output_price_per_1m: Annotated[NonNegative | None, NotNull] = None
    context_window: Annotated[NonNegative | None, NotNull] = None
    capabilities: Annotated[list[str] | None, NotNull] = None
    tpm: NonNegative | None = None
    fallbacks: Annotated[list[str] | None, NotNull] = None
    apis: Annotated[list[str] | None, NotNull, AfterValidator(_chat_and_known)] = None
    attempt_timeout_s: Positive | None = None
    first_token_timeout_s: Positive | None = None
    # '' as well as null: the model's own default (infra/main.bicep writes '' for it).
    reasoning_effort: Annotated[ReasoningEffort | None, Given] = None


def _tier_table(sources: TierSources, read: Mapping[str, object]) -> tuple[Tier, ...]:
    if sources.table:
        try:
            specs = json.loads(sources.table)
        except json.JSONDecodeError as exc:
            raise ConfigError("ROUTER_TIERS", f"is not valid JSON ({exc.msg})") from None
        if not isinstance(specs, list) or not specs:
            raise ConfigError("ROUTER_TIERS", "must be a non-empty JSON array of tier objects")
    else:
        specs = [_default_tier_spec(default, read) for default in DEFAULT_TIERS]
    tiers = tuple(_tier(spec, index, sources) for index, spec in enumerate(specs))
    names = [t.name for t in tiers]
    if len(set(names)) != len(names):
        raise ConfigError("ROUTER_TIERS", f"tier names must be unique, got {names}")
    return tiers


def _default_tier_spec(default: DefaultTier, read: Mapping[str, object]) -> dict[str, object]:
    """A default tier; an endpoint that names its route (e.g. `.../openai/v1`) keeps that route."""
    endpoint = str(read[default.endpoint_setting] or "") if default.endpoint_setting else ""
    if not endpoint and default.account_setting:
        endpoint = _account(str(read[default.account_setting] or ""))
    spec: dict[str, object] = {"name": default.name, **default.spec, "endpoint": endpoint}
    if endpoint and shape_in(endpoint):
        spec.pop("url_shape", None)
    return spec


def _account(endpoint: str) -> str:
    """An endpoint's scheme and host: its account, whatever route its path names."""
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _tier(raw: object, index: int, sources: TierSources) -> Tier:
    try:
        spec = TierSpec.model_validate(raw)
    except TierError as error:
        raise ConfigError("ROUTER_TIERS", _tier_problems(raw, index, error)) from None
    where = f"tier {spec.name!r}"
    endpoint = (spec.endpoint or sources.endpoint or "").strip()
    if not endpoint:
        raise ConfigError("FOUNDRY_ENDPOINT", f"is not set and {where} has no endpoint of its own")
    if not is_http_url(endpoint):
        raise ConfigError("ROUTER_TIERS", f"{where}: endpoint {endpoint!r} is not an http(s) URL")
    shape = spec.url_shape or shape_in(endpoint) or "v1"
    given: dict[str, Any] = {
        "extra_parameters": spec.extra_parameters,
        "input_price_per_1m": spec.input_price_per_1m,
        "output_price_per_1m": spec.output_price_per_1m,
        "context_window": _maybe(int, spec.context_window),
        "capabilities": _maybe(frozenset, spec.capabilities),
        "tpm": _maybe(int, spec.tpm),
        "fallbacks": _maybe(tuple, spec.fallbacks),
        "apis": _maybe(frozenset, spec.apis),
        "reasoning_effort": spec.reasoning_effort,
    }
    return Tier(
        name=spec.name,
        deployment=spec.deployment,
        endpoint=shape_endpoint(endpoint, shape),
        url_shape=shape,
        api_version=spec.api_version or default_api_version(shape),
        attempt_timeout_s=spec.attempt_timeout_s or sources.attempt_timeout_s,
        first_token_timeout_s=spec.first_token_timeout_s or sources.first_token_timeout_s,
        **{key: value for key, value in given.items() if value is not None},
    )


def _maybe(convert: Callable[[Any], object], value: object) -> object:
    """Tier's form of a key given in JSON (a list, a number), or None when it was left out."""
    return None if value is None else convert(value)


def _tier_problems(raw: object, index: int, error: TierError) -> str:
    """`tier 'name': key: problem; ...`, by index while the name is unknown."""
    name = raw.get("name") if isinstance(raw, dict) else None
    where = f"tier {name.strip()!r}" if isinstance(name, str) and name.strip() else f"tier {index}"
    problems = []
    for problem in error.errors(include_url=False):
        key = ".".join(str(part) for part in problem["loc"])
        cause = problem.get("ctx", {}).get("error")
        if isinstance(cause, ValueError):  # our own rule's message says what it got
            message = str(cause)
        elif problem["type"] == "model_type":
            message = "must be an object"
        elif problem["type"] == "missing":
            message = "is required"
        else:
            message = f"{problem['msg']}, got {problem['input']!r}"
        problems.append(f"{key}: {message}" if key else message)
    return f"{where}: " + "; ".join(problems)
