"""Reading an ask against the offered tools: one call, a chain, a missing id, no fit."""

from __future__ import annotations

from typing import Any

from shared.routing import rules, toolfit
from shared.routing.classifier import describe_turn
from shared.routing.features import view_request


def tool(name: str, description: str = "", required: tuple[str, ...] = ()) -> dict[str, Any]:
    parameters = {"type": "object", "properties": {r: {"type": "string"} for r in required}}
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {**parameters, "required": list(required)},
        },
    }


ANIME = [
    tool("searchAnime", "Search for anime based on a query string.", ("query",)),
    tool("getCastAndCrew", "Retrieve cast and crew details for an anime.", ("animeId",)),
    tool("getStreamingServices", "Where an anime can be streamed.", ("animeId",)),
]
PHYSICS = [
    tool("calculate_final_velocity", "Final velocity of an object.", ("u", "a", "t")),
    tool("get_weather", "The weather in a city.", ("city",)),
]


def fit(text: str, tools: list[dict[str, Any]], holds_id: bool = False) -> toolfit.Fit:
    return toolfit.fit(text, toolfit.offered(tools), holds_id)


def test_an_ask_one_function_performs_fits_it_whole() -> None:
    f = fit("Calculate the final velocity of a car that starts at 2 m/s", PHYSICS)
    assert f.best == 1.0
    assert f.needed == 1
    assert not f.id_gap


def test_inflections_meet_the_function_name() -> None:
    assert fit("Where can I find streaming services for it?", ANIME).best == 1.0
    assert toolfit.key("reminders") == toolfit.key("reminder")
    assert toolfit.key("streaming") == toolfit.key("stream")


def test_an_ask_that_needs_several_functions_counts_them() -> None:
    f = fit("Look up the cast and crew of Naruto and the streaming services for it", ANIME)
    assert f.needed == 2


def test_a_required_id_the_ask_does_not_hold_is_a_dependent_call() -> None:
    assert fit("Who is in the cast of One Punch Man?", ANIME).id_gap
    assert not fit("Who is in the cast of One Punch Man?", ANIME, holds_id=True).id_gap
    assert not fit("Search for anime about robots", ANIME).id_gap


def test_a_missing_id_is_no_chain_when_no_other_function_could_find_it() -> None:
    # beside getCastAndCrew alone the model asks for the id, or fills it in from the ask
    assert not fit("Who is in the cast of One Punch Man?", ANIME[1:2]).id_gap


def test_joined_asks_are_counted() -> None:
    assert fit("Find the weather in Paris, then book a table", PHYSICS).links >= 1
    assert fit("What is the weather in Paris?", PHYSICS).links == 0


def test_the_verbs_of_one_functions_name_are_one_action() -> None:
    mail = [tool("send_email", "Send an email.", ("to",)), tool("search_docs", "Search docs.")]
    # "send" and "email" both name send_email: one ask, not two joined
    assert fit("Use the send_email tool to send the summary to ops@example.com", mail).links == 0
    # a verb no offered name holds still joins a second ask
    assert fit("Send an email to ops and book a table", mail).links == 1


def test_an_ask_no_function_touches_has_no_fit() -> None:
    f = fit("Find the nearest pharmacy in the city", ANIME)
    assert (f.best, f.described, f.needed) == (0.0, 0, 0)


def test_identifiers_are_told_from_words_ending_in_id() -> None:
    for name in ("id", "order_id", "animeId", "userIDs", "uuid"):
        assert toolfit.tool_words("t", "", (name,)).needs_id, name
    for name in ("paid", "android", "valid"):
        assert not toolfit.tool_words("t", "", (name,)).needs_id, name


def test_odd_tool_entries_are_skipped() -> None:
    junk: list[Any] = [{"type": "junk"}, {"function": {"name": 3}}, "x", tool("ok")]
    assert len(toolfit.offered(junk)) == 1


def test_the_classifier_reads_what_the_tools_say_about_the_ask() -> None:
    def described(text: str, tools: list[dict[str, Any]]) -> str:
        return describe_turn(view_request([{"role": "user", "content": text}], tools))

    assert "one offered tool performs the ask" in described("Calculate the final velocity", PHYSICS)
    assert "requires an id" in described("Who is in the cast of Naruto?", ANIME)
    chain = described("The cast and crew of Naruto, and its streaming services", ANIME)
    assert "needs 2 different tools" in chain
    assert "no offered tool fits" in described("Find the nearest pharmacy", ANIME)


def test_a_namespace_before_the_function_need_not_be_in_the_ask() -> None:
    # Semantic Kernel names a plugin's function `Plugin-function`, MCP gateways `server__tool`
    forecast = [tool("WeatherPlugin-get_forecast", "The forecast for a city.", ("city",))]
    assert fit("What is the forecast for Paris tomorrow?", forecast).best == 1.0
    issue = [tool("github__create_issue", "Open an issue in a repository.", ("title",))]
    assert fit("Create an issue for the login bug", issue).best == 1.0
    # Semantic Kernel's .NET functions: `Plugin_Function`
    for name in ("WeatherPlugin_get_forecast", "weather_GetForecast", "WeatherPlugin_GetForecast"):
        assert fit("What is the forecast for Paris?", [tool(name)]).best == 1.0, name
    # a snake_case or upper-case name is one name, not a namespace and a function
    assert fit("What is the forecast for Paris?", [tool("weather_forecast")]).best == 0.5
    assert fit("What is the forecast for Paris?", [tool("WEATHER_FORECAST")]).best == 0.5
    # an ask that holds the namespace too still fits whole
    assert fit("What is the weather forecast for Paris?", forecast).best == 1.0


def test_a_namespace_still_tells_functions_of_one_verb_apart() -> None:
    tickets = [tool("train_ticket-buy"), tool("concert_ticket-buy")]
    assert fit("Buy a train ticket and a concert ticket", tickets).needed == 2
    assert fit("Buy me a train ticket to Leeds", tickets).needed == 1


def test_the_classifier_is_told_of_one_call_only_where_the_rules_read_one_call() -> None:
    api = PHYSICS + [
        tool(f"{verb}_{noun}")
        for verb in ("update", "delete", "list")
        for noun in ("sensor", "experiment", "report")
    ]
    assert len(api) > rules.ONE_CALL_MAX_TOOLS
    ask = [{"role": "user", "content": "Calculate the final velocity"}]
    assert "one offered tool performs" in describe_turn(view_request(ask, PHYSICS))
    # beside a whole API a function the ask names is rarely the whole step
    assert "one offered tool performs" not in describe_turn(view_request(ask, api))
