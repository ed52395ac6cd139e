from __future__ import annotations

import zlib

import pytest

from shared.routing import features
from shared.routing.features import (
    SIGNALS,
    is_greeting,
    message_text,
    signals,
    terms,
    view_request,
    word_buckets,
)


def test_message_text_reads_strings_parts_and_none() -> None:
    assert message_text("hello") == ("hello", 0)
    assert message_text(None) == ("", 0)
    parts = [
        {"type": "text", "text": "a"},
        {"type": "image_url", "image_url": {"url": "x"}},
        {"type": "text", "text": "b"},
        "junk",
    ]
    assert message_text(parts) == ("a\nb", 1)


def test_view_keeps_the_last_user_message_and_counts_the_rest() -> None:
    view = view_request(
        [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "ok"},
            {"role": "tool", "content": "42"},
            {"role": "user", "content": "second"},
        ]
    )
    assert view.text == "second"
    assert view.user_turns == 2
    assert view.tool_results == 1
    assert view.context_chars == len("be brief" + "first" + "ok" + "42" + "second")


def test_view_reads_the_agent_turn_since_the_last_user_message() -> None:
    calls = [{"id": "a", "function": {"name": "f"}}, {"id": "b", "function": {"name": "g"}}]
    view = view_request(
        [
            {"role": "system", "content": "policy " * 10},
            {"role": "user", "content": "book it"},
            {"role": "assistant", "content": None, "tool_calls": calls[:1]},
            {"role": "tool", "tool_call_id": "a", "content": "old"},
            {"role": "user", "content": "and the hotel"},
            {"role": "assistant", "content": None, "tool_calls": calls},
            {"role": "tool", "tool_call_id": "a", "content": "12345"},
            {"role": "tool", "tool_call_id": "b", "content": "678"},
        ],
        tools=[{}, {}, {}],
    )
    assert (view.text, view.tools, view.system_chars) == ("and the hotel", 3, 70)
    assert (view.tool_results, view.results_since_user, view.result_chars) == (3, 2, 8)
    assert (view.calls_since_user, view.parallel_calls, view.last_is_tool) == (2, 2, True)
    assert view.turn_chars == len("and the hotel") + 8
    values = features.turn_signals(view)
    assert list(values) == list(features.TURN_SIGNALS)
    assert values["last_is_tool"] == 1.0
    assert values["parallel_calls"] > 0
    assert values["results_since_user"] > 0


def test_the_conversation_so_far_is_read_without_tools_only() -> None:
    call = {"id": "a", "function": {"name": "search_hotels"}}
    thread = [
        {"role": "user", "content": "Find me a hotel in Paris"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "a", "content": "Hotel Lumiere, 120 EUR"},
        {"role": "assistant", "content": "The Hotel Lumiere has rooms. " * 40},
        {"role": "user", "content": "Does it have laundry service?"},
    ]
    tool = {"type": "function", "function": {"name": "search_hotels"}}
    plain = features.turn_signals(view_request(thread))
    agent = features.turn_signals(view_request(thread, tools=[tool]))
    for name in features.CONVERSATION_SIGNALS:
        assert plain[name] > 0
        # an agent's thread grows with every call and follow-up: how far the loop has run
        assert agent[name] == 0.0
    assert agent["tools"] > 0


@pytest.mark.parametrize(
    ("message", "ask"),
    [
        ("Yes, that works. Can you tell me the rating?", "Can you tell me the rating?"),
        ("Okay, thanks! Book it for two.", "Book it for two."),
        ("No, not at the moment. Find me some movies.", "Find me some movies."),
        ("That's right. How much per night?", "How much per night?"),
        ("Thanks for that.\nWhat time does it open?", "What time does it open?"),
    ],
)
def test_an_acknowledgement_before_the_ask_is_set_aside(message: str, ask: str) -> None:
    assert features.without_acknowledgement(message) == ask


@pytest.mark.parametrize(
    "message",
    [
        "Yes.",  # the whole message: it is the answer
        "Thanks for the information and also check the weather in Sunol.",  # one sentence
        "No more than 3 results. Sort them by price.",  # an instruction, not a reply
        "Sure thing, and while you're at it, could you explain the difference between the two "
        "plans and which one suits a family of four?",  # no sentence ends within the reply
    ],
)
def test_a_message_that_is_not_a_reply_and_an_ask_is_kept(message: str) -> None:
    assert features.without_acknowledgement(message) == message


def test_with_tools_a_follow_up_reads_as_its_ask() -> None:
    """An agent's user answers the agent before asking ("Yes, that works."): the reply says
    nothing about the next step. Without tools the message is read whole."""
    tool = {"type": "function", "function": {"name": "search_restaurants"}}
    ask = "Can you tell me the rating and the address of the restaurant?"
    replied = "Yes, that works for me. " + ask

    def named(text: str, tools: list[dict[str, object]] | None) -> dict[str, float]:
        view = view_request([{"role": "user", "content": text}], tools=tools)
        return features.request_features(view)[0]

    assert named(replied, [tool]) == named(ask, [tool])
    assert named(replied, None)["chars"] > named(ask, None)["chars"]


def test_a_lone_message_has_no_agent_structure() -> None:
    values, _ = features.request_features(view_request([{"role": "user", "content": "hi"}]))
    assert list(values) == list(features.ALL_SIGNALS)
    for name in ("tools", "policy_chars", "results_since_user", "calls_since_user"):
        assert values[name] == 0.0


# Each rule signal: asks it must read, and everyday asks it must leave alone.
RULE_SIGNALS = {
    # the verb of a hard task leading the ask
    "hard_ask": (
        [
            "Plan a migration",
            "Could you design a schema?",
            "please prove it",
            "Derive x",
            # the families of meaning, however inflected or phrased
            "Proof that sqrt(2) is irrational",
            "Show that every prime above 2 is odd",
            "Make a SWOT analysis for Contoso",
            "Comparison of Kafka and RabbitMQ for event sourcing",
            "Can you analyse these survey results?",
            "I need a detailed 5-day itinerary for Rome",
            "Write me an architecture for a chat service",
            # an expert's role asked of the model
            "Act as a tax advisor: should I file jointly?",
            "I want you to act like an experienced SRE and review this setup",
            "Assume the role of a lawyer",
        ],
        [
            "the cache should act as a buffer",
            "create a reminder",
            "I want to plan a trip",
            "the plan is fine",
            "explain pH",
            "schedule a meeting with Bob at 3",
            "what's on my schedule today",
            "show me my balance",
            "provide my account number",
        ],
    ),
    # whole families of short logic puzzles
    "puzzle": (
        [
            "not ( True ) and ( True ) is",
            "True and False or ( not False ) is",
            "Sort the following words alphabetically: List: oven costume",
            "Complete the rest of the sequence: [ { < ( ) > } ( [ ]",
            "Fidel tells the truth. Jerry says Fidel lies. Does Jerry tell the truth?",
            "Is the argument, given the premises, deductively valid or invalid?",
            "What is the date one week from today in MM/DD/YYYY?",
            "((-1 + 2) * 3 - (4 * -5)) =",
        ],
        [
            "is it true that my card is blocked",
            "sort my emails by date",
            "what's the order status",
            "call (555) 123-4567",
            "true or false: the card works abroad",
        ],
    ),
    # an ask for code, or code in a language
    "code_ask": (
        [
            "Write a bash script for automating rclone backups",
            "give me kotlin code to create a local vpnservice",
            "How can you remove duplicates from a list in Python?",
            "sort a list in c++ please",
            "write pcre regex for not containing C:",
        ],
        [
            "i forgot my code to get into the app.",
            "can i do a transfer with swift",
            "what's my verification code",
            "give me a list of grocery stores",
            "reserve a table for two",
        ],
    ),
    # a named software technology, not an everyday word
    "software": (
        [
            "How do I set up ssh on Linux without a password?",
            "Visualize a pandas dataframe in gradio",
            "How can I restrict a Postgres column to polygons?",
            "what does this regex match",
            "Explain Kubernetes pods",
        ],
        [
            "what are some good games for my android phone",
            "how do I react to a rude email",
            "remove rust from my bike",
            "book a table for a birthday bash",
            "what subjects do you excel in",
            # a data format is what an extraction returns, not a question about software
            "Extract the invoice number and total from this email and return them as JSON",
            "Convert this list to a CSV with columns name and age",
        ],
    ),
    # mathematical notation, not money
    "formula": (
        [
            "What is (6^83 + 8^83) mod 49?",
            "What is \\lim_{x \\to 0} (csc(x) - cot(x))?",
            "Find $\\int_0^1 x dx$.",
            "Let f(x) = 1 / (1 + x), what is f'(1)?",
            "Are groups Z_4 * Z_2 and D_4 isomorphic?",
            "Expand (a + b)^3",
            "Let x_1, ..., x_n be positive reals.",
        ],
        [
            "I tried to get $100 but I just got $20",
            "what is 2 + 2",
            "set a timer for 5",
            "what is in order_1",
            "rename my_file_2 please",
        ],
    ),
}


@pytest.mark.parametrize("name", sorted(RULE_SIGNALS))
def test_rule_signals_read_their_asks_and_leave_everyday_ones(name: str) -> None:
    fires, stays_off = RULE_SIGNALS[name]
    for text in fires:
        assert signals(text)[name] == 1.0, text
    for text in stays_off:
        assert signals(text)[name] == 0.0, text


def test_greetings() -> None:
    for text in ["hi", "Hello!", "thanks a lot", "thank you so much", "ok, bye", "good morning"]:
        assert is_greeting(text), text
    for text in ["hi, can you check my balance", "thanks, now write a poem", "", "x" * 100]:
        assert not is_greeting(text), text


def test_signals_cover_every_name_and_stay_small() -> None:
    values = signals("First do this, then that: ```x = f(1) + 2``` " * 30)
    assert list(values) == list(SIGNALS)
    assert all(0.0 <= v <= 6.0 for v in values.values())
    assert values["code_fence"] == 1.0
    assert values["multi_step"] == 1.0


def test_signals_detect_their_cases() -> None:
    assert signals("How many apples are left if each costs $2?")["quantity_question"] == 1.0
    assert signals("Traceback (most recent call last):\nValueError: x")["stack_trace"] == 1.0
    assert signals("how many apples")["stack_trace"] == 0.0
    assert signals("1. read\n2. parse\n3. write")["numbered_list"] > 0
    assert signals("what time is it")["math_ops"] == 0.0
    assert signals("what is 12 * 7")["math_ops"] > 0


def test_a_value_written_with_separators_is_one_number() -> None:
    # a date, an amount, a time or a phone number is one value to read, not three numbers
    one_more = signals("Order 42 and 7")["numbers"]
    assert one_more > 0
    for value in ("2024-02-01", "03/14/2024", "$1,240.50", "10:30", "+1 415 555 0100"):
        assert signals(f"Order {value} and 7")["numbers"] == one_more, value
    assert signals("what is 12 * 7 + 3")["numbers"] > one_more


def test_a_date_is_not_arithmetic() -> None:
    assert signals("Invoice dated 2024-02-01")["math_ops"] == 0.0
    assert signals("Shipped on 03/14/2024 or 14.03.24")["math_ops"] == 0.0
    assert signals("What is 2024 - 1999?")["math_ops"] > 0
    assert signals("What is 144/12?")["math_ops"] > 0


def test_the_numbers_of_a_text_handed_over_to_read_are_not_counted() -> None:
    read = signals("Extract the date and amount from this receipt: Walmart 03/14/2024 $56.23 $4")
    assert read["numbers"] == read["money_or_percent"] == 0.0
    quoted = signals('What is the order number in this message? "Order 99812 shipped on 3 Jan"')
    assert quoted["numbers"] == 0.0
    # a calculation over the text, arithmetic in it, or a problem after a label: read whole
    assert signals("Extract the total of: $2.50, $3.10 and $4.00")["numbers"] > 0
    assert signals("Rewrite this in words: 12 * 7 + 3 = 87")["numbers"] > 0
    assert signals("Q: Janet has 16 eggs and eats 3. How many are left?")["numbers"] > 0
    assert signals("Find the roots of: x^2 - 5x + 6 = 0, 2x + 14 = 0")["numbers"] > 0
    assert signals("Extract the totals 12, 14 and 19 from this receipt")["numbers"] > 0


def test_hashed_terms_are_stable_across_processes() -> None:
    # crc32, not the per-process salted hash(): the artifact's buckets must mean the same
    expected = zlib.crc32(b"hello") & (features.HASH_BUCKETS - 1)
    assert word_buckets("hello")[0] == expected
    assert expected in terms("Hello").counts()


def test_terms_are_distinct_words_and_bigrams() -> None:
    t = terms("Reset my password, reset MY password")
    assert t.words == {"reset", "my", "password"}
    assert len(t.bigrams) == 3  # reset my, my password, password reset
    assert terms("reset my password").counts() == terms("RESET my password").counts()
    assert terms("reset my password").counts() != terms("password my reset").counts()


def test_bucket_counts_cover_words_grams_and_bigrams() -> None:
    counts = terms("ab").counts()  # "<ab>" is one 4-gram: the word and its gram, no bigram
    assert sum(counts.values()) == 2
    assert all(0 <= b < features.HASH_BUCKETS for b in counts)


def test_an_offered_tool_named_in_the_ask_is_not_code() -> None:
    tools = [{"type": "function", "function": {"name": "get_order"}}, {"type": "junk"}]
    ask = [{"role": "user", "content": "Use the get_order tool for order 1182."}]
    view = view_request(ask, tools)
    assert view.tool_names == ("get_order",)
    values, _ = features.request_features(view)
    assert values["code_syntax"] == 0.0
    assert signals(ask[0]["content"])["code_syntax"] > 0  # without the tool list it looks like code
