"""The product's hard requirements on the local scorer, through its public interface."""

from __future__ import annotations

import dataclasses

import pytest

from shared.routing import rules
from shared.routing.presets import MODES, PRESETS, thresholds_for
from shared.routing.scorer import Score, score_request, score_text


def user(text: str) -> dict[str, str]:
    return {"role": "user", "content": text}


@pytest.mark.parametrize("text", ["hi", "hello", "thanks", "Thanks!", "hey there", "ok, bye"])
def test_small_talk_goes_small_under_every_preset(text: str) -> None:
    score = score_text(text)
    assert score.signal == "greeting"
    for mode in MODES:
        assert PRESETS[mode].decide(score.p_large) == "small"


@pytest.mark.parametrize(
    "text",
    [
        "what's my order status",
        "how do I reset my password",
        "what is the balance on my checking account",
        "my card was declined at the store, why?",
        "can you tell me when my package will arrive",
        "How would I go about getting a second card?",
        "which is the best way to improve the credit score",
    ],
)
def test_faqs_and_status_checks_go_small_with_high_confidence(text: str) -> None:
    score = score_text(text)
    assert score.p_large < 0.05
    assert PRESETS["balanced"].decide(score.p_large) == "small"


@pytest.mark.parametrize(
    "text",
    [
        "Reformat the date 2024-03-05 as March 5, 2024",
        "Translate to French: I will pay the 1,240 euros on 03/14/2024 at 10:30.",
        "Convert this to JSON: name=Ann, age=34, city=Oslo, zip=0150, joined 2019-04-01",
        "Get the tracking numbers from this email: "
        '"Parcel 1Z999AA10123456784 and 9400111899223197428490 ship 12/05"',
    ],
)
def test_extracting_or_reformatting_a_text_with_numbers_goes_small(text: str) -> None:
    # its dates, amounts and ids are values to copy, not a calculation
    assert PRESETS["balanced"].decide(score_text(text).p_large) == "small"


COMPLEX = {
    "code": "```python\ndef add(a, b):\n    return a - b\n```\nwhy does this return the wrong sum?",
    "stack trace": 'Traceback (most recent call last):\n  File "app.py", line 3\nKeyError: "id"',
    "code-like": "Write a function in Rust that merges two sorted vectors without allocating.",
    "multi-step": "First summarise the report, then list the risks, then draft an email about it.",
    "step by step": "Explain step by step how to migrate a Postgres database to a new server",
    "plan": "Make a plan to launch our product in three new markets next quarter",
    "numbered": "Build me a CLI that:\n1. reads a CSV\n2. validates each row\n3. writes JSON",
    "math word problem": (
        "A train leaves at 3 pm going 60 mph and another leaves at 4 pm going 80 mph. "
        "When does the second train catch up with the first one?"
    ),
    "gsm8k-like": (
        "Maria buys 4 boxes of pencils with 12 pencils each. She gives away 15 pencils. "
        "How many pencils does she have left?"
    ),
}


@pytest.mark.parametrize("name", sorted(COMPLEX))
def test_complex_requests_go_large_under_balanced(name: str) -> None:
    score = score_text(COMPLEX[name])
    assert PRESETS["balanced"].decide(score.p_large) == "large", score


TOOLS = [
    {"type": "function", "function": {"name": n, "parameters": {"type": "object"}}}
    for n in ("get_weather", "search_flights", "send_email")
]


def assert_large_by_rule(text: str, signal: str) -> None:
    """`text` goes large by the rule named `signal` under every preset, alone or beside TOOLS
    (none of which touches it)."""
    for tools in (None, TOOLS):
        score = score_request([user(text)], tools)
        assert score.signal == signal, score
        for mode in MODES:
            assert PRESETS[mode].decide(score.p_large) == "large", (mode, score)


def call(name: str, call_id: str = "c1") -> dict[str, object]:
    function = {"name": name, "arguments": "{}"}
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [{"id": call_id, "function": function}],
    }


def result(content: str, call_id: str = "c1") -> dict[str, str]:
    return {"role": "tool", "tool_call_id": call_id, "content": content}


@pytest.mark.parametrize("text", ["hi", "thanks", "What is the capital of France?"])
def test_tools_are_a_signal_not_a_verdict(text: str) -> None:
    score = score_request([user(text)], TOOLS)
    assert PRESETS["balanced"].decide(score.p_large) == "small", score


def test_phrasing_an_answer_from_a_short_tool_result_goes_small() -> None:
    turn = [user("What's the weather in Paris?"), call("get_weather"), result('{"temp_c": 21}')]
    score = score_request(turn, TOOLS)
    assert PRESETS["balanced"].decide(score.p_large, score.abstain) == "small", score


@pytest.mark.parametrize(
    "text",
    [
        "Plan a three-step migration to Postgres",
        "Design a cache system like Memcached",
        "Prove that there are infinitely many primes",
        "How would you design a rate limiter for a public API?",
        # families of meaning, not exact words
        "Proof that sqrt(2) is irrational",
        "Make a SWOT analysis for Contoso",
        "Comparison of Kafka and RabbitMQ for event sourcing",
        "What are the pros and cons of nuclear power",
        "What are the trade-offs between gRPC and REST for internal services?",
        # a judgement or a design asked of the model, not a how-to
        "How would you detect fraud in card transactions in real time?",
        "What's the best way to structure a monorepo for 20 teams?",
    ],
)
def test_short_hard_asks_go_large_with_or_without_tools(text: str) -> None:
    assert_large_by_rule(text, "hard ask")


def test_a_policy_bound_task_over_many_tools_goes_large() -> None:
    policy = "# Airline agent policy\n" + "Before any booking, check the fare rules. " * 150
    many = [
        {"type": "function", "function": {"name": f"tool_{i}", "parameters": {"type": "object"}}}
        for i in range(14)
    ]
    turn = [
        {"role": "system", "content": policy},
        user("I want to change my flight to the day after and use my travel certificate"),
    ]
    score = score_request(turn, many)
    assert PRESETS["balanced"].decide(score.p_large, score.abstain) != "small", score


def test_very_long_input_goes_large() -> None:
    score = score_text("please read this. " * 500)
    assert score.signal == "long input"
    assert PRESETS["cost"].decide(score.p_large) == "large"


def test_a_large_tool_output_to_read_goes_large() -> None:
    turn = [user("summarise the open tickets"), call("search_flights"), result("row " * 2000)]
    score = score_request(turn, TOOLS)
    assert score.signal == "long input"
    assert PRESETS["cost"].decide(score.p_large) == "large"


def test_a_long_conversation_counts_even_when_the_last_message_is_short() -> None:
    messages = [user("here is my log:\n" + "GET /index 200 OK\n" * 1200), user("what happened?")]
    assert score_request(messages).signal == "long input"


def test_small_talk_after_a_tool_result_is_not_small_talk() -> None:
    turn = [user("thanks"), call("get_weather"), result('{"temp_c": 21}')]
    assert score_request(turn, TOOLS).signal != "greeting"


def test_scores_the_last_user_message() -> None:
    messages = [
        {"role": "system", "content": "You are a helpful assistant."},
        user(COMPLEX["code-like"]),
        {"role": "assistant", "content": "Here you go: ..."},
        user("thanks!"),
    ]
    assert score_request(messages).signal == "greeting"
    assert score_request(messages[:2]).p_large > 0.5


def test_text_parts_are_read() -> None:
    parts = [{"type": "text", "text": "hello"}]
    assert score_request([{"role": "user", "content": parts}]).signal == "greeting"


@pytest.mark.parametrize(
    "messages",
    [[], [{"role": "user", "content": None}], [{"role": "assistant", "content": "hi"}]],
)
def test_degenerate_conversations_still_score(messages: list[dict[str, object]]) -> None:
    score = score_request(messages)
    assert 0.0 <= score.p_large <= 1.0
    assert score.signal


def test_score_is_a_probability_with_a_signal() -> None:
    for text in ["how do i change my pin", *COMPLEX.values()]:
        score = score_text(text)
        assert 0.0 <= score.p_large <= 1.0
        assert isinstance(score.signal, str)
        assert score.signal


def test_score_is_immutable() -> None:
    score = Score(0.5, "math")
    with pytest.raises(dataclasses.FrozenInstanceError):
        score.p_large = 0.1  # type: ignore[misc]


def test_named_signals_explain_clear_cases() -> None:
    assert score_text(COMPLEX["code"]).signal == "code"
    assert score_text(COMPLEX["multi-step"]).signal == "multi-step"


def test_every_turn_under_a_long_policy_with_tools_goes_large() -> None:
    policy = "# Retail agent policy\n" + "Authenticate the user before any change. " * 120
    confirm = [{"role": "system", "content": policy}, user("Yes, please proceed.")]
    score = score_request(confirm, TOOLS)
    assert score.signal == "policy"
    for mode in MODES:
        assert PRESETS[mode].decide(score.p_large) == "large"


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Give kotlin code to create a local vpnservice", "code"),
        ("Can you show me a transfer learning example with python code.", "code"),
        ("What is (6^83 + 8^83) mod 49?", "math"),
        ("Does $p(x) = x^5 + x - 1$ have any real roots?", "math"),
    ],
)
def test_short_asks_for_code_or_calculation_go_large_with_or_without_tools(
    text: str, signal: str
) -> None:
    assert_large_by_rule(text, signal)


@pytest.mark.parametrize(
    "text",
    [
        "not ( True ) and ( True ) is",
        "Sort the following words alphabetically: List: oven costume",
        "Fidel tells the truth. Jerry says Fidel lies. Does Jerry tell the truth?",
    ],
)
def test_short_logic_puzzles_go_large_with_or_without_tools(text: str) -> None:
    assert_large_by_rule(text, "puzzle")


def test_a_question_about_named_software_goes_large_unless_an_offered_tool_performs_it() -> None:
    assert_large_by_rule("How do I set up ssh into a Linux server without a password?", "software")
    lookup = "List the Docker containers on host 5"
    assert score_request([user(lookup)]).signal == "software"
    docker_tools = [function("list_docker_containers", "Containers on a host.", "host")]
    assert score_request([user(lookup)], docker_tools).signal != "software"


def function(name: str, description: str, *required: str) -> dict[str, object]:
    properties = {r: {"type": "string"} for r in required}
    parameters = {"type": "object", "properties": properties, "required": list(required)}
    return {
        "type": "function",
        "function": {"name": name, "description": description, "parameters": parameters},
    }


def test_an_ask_one_offered_function_performs_is_a_tool_call_not_a_calculation() -> None:
    ask = (
        "Calculate the final velocity of an object that starts at 3 m/s and accelerates at "
        "2 m/s^2 for 4 seconds."
    )
    tools = [
        function("calculate_final_velocity", "Final velocity of an object.", "u", "a", "t"),
        function("calculate_distance", "Distance travelled by an object.", "u", "a", "t"),
    ]
    assert score_text(ask).signal == "math"  # alone, it is a calculation for the large tier
    score = score_request([user(ask)], tools)
    # the structure (one function performs it) and the wording (a calculation) disagree:
    # not large by the scorer alone; the classifier decides
    assert score.signal == "one tool call, hard wording", score
    assert score.abstain
    for mode in MODES:
        assert thresholds_for(mode, tools=True).decide(score.p_large, score.abstain) != "large"


def test_a_plugins_function_is_read_as_the_function_itself() -> None:
    # Semantic Kernel's OpenAI connector names a plugin's function `Plugin-function`, MCP
    # gateways `server__tool`: the namespace does not make the ask any less one call
    ask = (
        "Calculate the final velocity of an object that starts at 3 m/s and accelerates at "
        "2 m/s^2 for 4 seconds."
    )
    for prefix in ("", "PhysicsPlugin-", "physics__"):
        tools = [
            function(f"{prefix}calculate_final_velocity", "Final velocity.", "u", "a", "t"),
            function(f"{prefix}calculate_distance", "Distance travelled.", "u", "a", "t"),
        ]
        score = score_request([user(ask)], tools)
        assert score.signal == "one tool call, hard wording", (prefix, score)


def test_beside_a_whole_api_a_function_named_by_the_ask_is_not_the_whole_step() -> None:
    # the same ask and function among a dozen others (an MCP server's or a device's API): the
    # one-call test no longer overrides the wording, whose rule decides
    ask = (
        "Calculate the final velocity of an object that starts at 3 m/s and accelerates at "
        "2 m/s^2 for 4 seconds."
    )
    api = [function("calculate_final_velocity", "Final velocity of an object.", "u", "a", "t")]
    api += [
        function(f"{verb}_{noun}", f"{verb.title()} a {noun}.", f"{noun}_id")
        for verb in ("get", "update", "delete", "list")
        for noun in ("sensor", "experiment", "report")
    ]
    assert len(api) > rules.ONE_CALL_MAX_TOOLS
    assert score_request([user(ask)], api[:2]).signal == "one tool call, hard wording"
    score = score_request([user(ask)], api)
    assert score.signal == "math", score
    assert not score.abstain
    assert thresholds_for("balanced", tools=True).decide(score.p_large, score.abstain) == "large"


ANIME = [
    function("searchAnime", "Search for anime based on a query string.", "query"),
    function("getCastAndCrew", "Retrieve cast and crew details for an anime.", "animeId"),
    function("getStreamingServices", "Where an anime can be streamed.", "animeId"),
    function("getRecommendations", "Anime similar to a given one.", "animeId"),
]


def test_a_short_ask_that_needs_a_chain_of_calls_goes_large_by_rule() -> None:
    # getCastAndCrew needs an animeId that only searchAnime finds: two calls, however
    # simple the wording reads (alone, the scorer sends it small)
    ask = "Who is in the cast of One Punch Man?"
    assert PRESETS["balanced"].decide(score_text(ask).p_large) == "small"
    score = score_request([user(ask)], ANIME)
    assert score.signal == "chain of tool calls", score
    for mode in MODES:
        assert thresholds_for(mode, tools=True).decide(score.p_large, score.abstain) == "large"


def test_a_chain_of_dependent_calls_stays_large_while_its_results_are_read() -> None:
    ask = user(
        'Look up the cast of "One Punch Man", then tell me where I can stream it and '
        "recommend similar anime."
    )
    score = score_request([ask], ANIME)
    assert PRESETS["balanced"].decide(score.p_large, score.abstain) == "large", score
    # the first call's result opens the next call: the ask's difficulty carries over
    first = [ask, call("searchAnime"), result('{"results": [{"id": 30276}]}')]
    carried = score_request(first, ANIME)
    assert carried.p_large >= score.p_large
    assert PRESETS["balanced"].decide(carried.p_large, carried.abstain) == "large", carried


@pytest.mark.parametrize(
    "ask",
    [
        "能帮我查一下中国广州市和北京市现在的天气状况吗\uff1f请使用公制单位\u3002",
        "거실, 에어컨, 실행하고, 침실, 공기청정기, 중지해줘.",
        "Привет, как дела?",
    ],
)
def test_an_ask_in_a_script_the_features_do_not_read_goes_to_the_classifier(ask: str) -> None:
    # no word of it reaches a feature: its score is the prior, not a reading of the ask
    for tools in (None, ANIME):
        score = score_request([user(ask)], tools)
        assert score.abstain, score
        assert score.signal == "unfamiliar script", score


def test_latin_accents_and_numbers_are_read_as_usual() -> None:
    for ask in ("Where is Łódź?", "Traduce «hola» al inglés, por favor", "12345"):
        assert not score_text(ask).abstain, ask
