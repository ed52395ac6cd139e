"""What the local scorer reads from a chat request: pure Python, no I/O, no state.

Two kinds of features, both computed here so training (bench/train_scorer.py) and inference
(scorer.py) share one definition:
- named signals: hand-made, human-readable, roughly in [0, 5] so one regularisation fits all;
- hashed terms (Terms): the distinct lowercased words, each standing for its own bucket and its
  character 4-grams' (they carry unseen spellings and jargon: "dataframe", "Ptyhon"), and the
  distinct word bigrams, counted into a fixed number of crc32 buckets.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache
from itertools import pairwise
from typing import Any

from shared.routing import toolfit

HASH_BITS = 15
HASH_BUCKETS = 1 << HASH_BITS
# Regexes and terms read at most this much of a message: longer inputs are settled by their
# length anyway, and the cap keeps inference under a millisecond.
MAX_SCAN_CHARS = 1000
CHAR_GRAM = 4

# Named signals, in the order the model's dense weights use.
SIGNALS: tuple[str, ...] = (
    "chars",
    "words",
    "lines",
    "greeting",
    "code_fence",
    "code_syntax",
    "stack_trace",
    "code_terms",
    "mixed_case",
    "multi_step",
    "numbered_list",
    "numbers",
    "math_ops",
    "quantity_question",
    "money_or_percent",
    "math_terms",
    "task_verb",
    "sentences",
    "hard_ask",
    "code_ask",
    "formula",
    "puzzle",
    "software",
)
# What the turn has to do in an agent loop (zero for a lone user message): how many tools it
# may call, how long a policy it works under, the conversation so far (without tools only:
# CONVERSATION_SIGNALS), and the tool calls and results since the user last spoke. Structure,
# not wording, so it carries to unseen agents.
TURN_SIGNALS: tuple[str, ...] = (
    "tools",
    "policy_chars",
    "context_chars",
    "user_turns",
    "earlier_results",
    "results_since_user",
    "result_chars",
    "calls_since_user",
    "parallel_calls",
    "last_is_tool",
)
# The ask read against the offered tools (toolfit.py; zero without tools): how well the
# best-fitting function performs it, how many functions it takes, whether one of them needs an
# id that only another call can find, and how many asks are joined in one request.
TOOL_SIGNALS: tuple[str, ...] = (
    "tool_fit",
    "tool_described",
    "tools_needed",
    "id_gap",
    "ask_links",
    "no_tool_fits",
)
ALL_SIGNALS: tuple[str, ...] = SIGNALS + TURN_SIGNALS + TOOL_SIGNALS
# The model's inputs: every named signal, then the message signals again for a request where
# an offered tool applies to the ask. There the ask's length, numbers and task words say less
# about the work (the function does it): a wordy "Retrieve the details of ..." is one call.
# A separate weight per signal lets the model learn that from agent turns without unlearning
# what the same signals mean in a plain chat.
TOOL_TEXT_PREFIX = "with tools: "
MODEL_INPUTS: tuple[str, ...] = ALL_SIGNALS + tuple(TOOL_TEXT_PREFIX + s for s in SIGNALS)
# How much the ask's wording (the hashed terms) counts when an offered tool applies to it.
# Then what the next step must do is read from the structure (TOOL_SIGNALS, TURN_SIGNALS);
# full weight would let the style of the sources that have tools decide ("Retrieve
# information about ..." is long and wordy in one dataset, terse in another). An ask that no
# offered tool touches is a plain ask and its wording counts in full. Chosen by leaving whole
# datasets out (bench/loso_routing.py), training and inference alike.
TOOL_WORDING = 1.0
# Instructions up to this long are what every agent framework sends ("You are a helpful ...");
# only the part beyond it reads as a policy the turn is bound by (tau-bench's are ~6,000).
POLICY_FREE_CHARS = 1_000

_WORD = re.compile(r"[a-z0-9][a-z0-9_#+']*")
_GREETING = re.compile(
    r"(?:hi|hello|hey|hiya|yo|howdy|good (?:morning|afternoon|evening)|greetings|"
    r"thanks?(?: you)?(?: (?:so|very) much)?|thank you|thx|ty|cheers|bye|goodbye|"
    r"see you|ok(?:ay)?|cool|great|got it|sounds good|yes|no|sure)"
    r"(?: there| all| again| a lot| a bunch| a million)?[\s!.,?:)]*",
)


def _words(*lines: str) -> frozenset[str]:
    return frozenset(word for line in lines for word in line.split())


# Word lists are matched as sets over the tokens: far cheaper than one regex each.
# Names of software technologies (languages, frameworks, databases, platforms, developer
# tools) without an everyday sense: not go, swift, rust, react, spark, bash, angular, excel or
# android ("what games are good for my android phone"). General names, not mined from the
# benchmarks; plurals match through _listed. An ask that names one is about software (rules.py).
_SOFTWARE_NAMES = _words(
    "python java javascript typescript c# c++ golang kotlin scala php perl haskell lua matlab",
    "sql nosql regex css powershell vba docker kubernetes k8s vue django",
    "nodejs fastapi pandas numpy scipy pytorch tensorflow keras sklearn jax huggingface llm git",
    "github linux unix macos postgres postgresql mysql sqlite mongodb redis hadoop graphql",
    "grpc websocket oauth jwt terraform ansible nginx cuda dataframe jupyter gradio streamlit",
    "aws gcp",
)
# Data formats: an extraction or formatting ask names them ("return the total as JSON"), so
# they count as code vocabulary but do not make an ask about software.
_DATA_FORMATS = _words("json yaml xml html csv")
# General software vocabulary beyond the names; words with a common everyday sense are left
# out (go, list, table, class, model, swift, rest, token, ...): asks for code are read by
# _CODE_ASK instead.
_SOFTWARE_WORDS = _words(
    "rust ruby react angular flask spark kafka bash rails",
    "apis shell script function code program algorithm compile compiler debug",
    "transformer gpt embedding ios android database query schema column",
    "variable array dict tuple pointer struct enum module dependency",
    "implement implementation repository library framework frontend backend sdk",
    "endpoint http https cli terminal api",
    "binary hash async await callback recursion iterator runtime syntax",
    "exception stacktrace refactor unittest pytest deploy deployment pipeline",
    "azure lambda apache vm gpu cpu latency dataset",
    "inference neural regression classifier notebook",
    "excel macro formula plugin widget toolbar",
)
_CODE_TERMS = _SOFTWARE_NAMES | _DATA_FORMATS | _SOFTWARE_WORDS
_MATH_TERMS = _words(
    "solve equation integral derivative probability prove theorem matrix polynomial remainder",
    "divisible prime inequality integer ratio average twice half triple each per total",
    "altogether respectively",
)
_TASK_VERBS = _words(
    "write create implement explain compare design analyze analyse summarize summarise develop",
    "generate draft describe build optimize optimise refactor evaluate discuss critique rewrite",
    "outline propose suggest list",
)
_MIXED_CASE = re.compile(r"[a-z][A-Z]")  # HuggingFace, AutoGen, iOS, getElementById
_QUANTITY_BIGRAMS = frozenset(
    ("how", w) for w in ["many", "much", "long", "old", "far", "fast", "often"]
) | frozenset(("what", w) for w in ["percent", "fraction"])
_QUANTITY_WORDS = frozenset({"calculate", "compute"})
_MONEY_WORDS = frozenset({"percent", "dollars", "cents"})
_CODE_SYMBOLS = ("=>", "->", "::", ");", "==", "!=", "&&", "||", "()", "#include", "</")
_CODE_LINES = re.compile(
    r"(?m)^[ \t]*(?:def|class|import|from|public|private|static|return|const|let|var|func|fn"
    r"|if|for|while|\}|\{)\b"
)
_SNAKE_CASE = re.compile(r"[a-z]_[a-z]")
_CALL = re.compile(r"\w\.\w+\(")
_STACK_HINTS = ("traceback", "error", "exception", "fault", "panicked", "\tat ", "  at ")
_STACK_TRACE = re.compile(
    r"traceback \(most recent call last\)|\bat [\w.$<>]+\([\w.]*:\d+\)|[a-z](?:error|exception)\b"
    r"|\bsegmentation fault\b|\bpanicked at\b"
)
_MULTI_STEP_HINTS = (
    "first",
    "step",
    "plan",
    "roadmap",
    "strategy",
    "schedule",
    "itinerar",
    "break",
    "curric",
)
_MULTI_STEP = re.compile(
    r"\bfirst\b.{1,200}?\b(?:then|next|after that|finally)\b|\bstep[- ]by[- ]step\b"
    r"|\b(?:make|create|write|draft|give me|outline|design|develop|build|propose)\b"
    r"[^.?!\n]{0,40}\b(?:plan|roadmap|strategy|curriculum|schedule|itinerary)\b"
    r"|\bplan (?:out|how|for how)\b|\bin (?:\w+ )?steps\b|\bbreak (?:it|this) down\b",
    re.DOTALL,
)
# An ask that opens with the verb of a hard task ("Plan a three-step migration to Postgres",
# "Design a cache like Memcached", "Prove that ..."), however short: general verbs, not mined
# from the benchmarks ("create" and "explain" are left out: "create a reminder").
_HARD_VERBS = (
    "plan|design|architect|prove|derive|implement|build|develop|refactor|debug|optimi[sz]e"
    "|migrate|solve|analy[sz]e|evaluate|devise|propose|calculate|compute|estimate"
)
# Verbs of a judgement call asked of the model ("How would you detect fraud in real time?"),
# and of a design ("the best way to structure a monorepo"; not "to improve my credit score").
_JUDGED = (
    "detect|handle|approach|structure|model|organi[sz]e|prioriti[sz]e|secure|prevent|test"
    "|validate|monitor|partition|shard|tackle"
)
_DESIGNED = "structure|organi[sz]e|model|partition|shard|design|architect|scale"
_HARD_ASK = re.compile(
    r"^(?:(?:please|pls|kindly|now|so|ok|okay)[,!]?\s+)*"
    r"(?:(?:can|could|would|will) you\s+(?:please\s+)?|help me\s+|let's\s+|let us\s+)?"
    rf"(?:{_HARD_VERBS})\b"
    rf"|\bhow (?:would|should|could|do|can) (?:you|i|we) (?:{_HARD_VERBS}|scale)\b"
    # a judgement asked of the model, not a how-to ("How would I get a second card?")
    rf"|\bhow (?:would|should) (?:you|we) (?:{_JUDGED})\b"
    rf"|\b(?:best|right|recommended) way to (?:{_DESIGNED})\b"
)
# Asks that weigh options, wherever the words stand ("What are the pros and cons of ...", "the
# trade-offs between ..."): the evaluate / compare family of a hard ask. General phrases.
_WEIGHING = re.compile(
    r"\bpros and cons\b|\btrade-?offs?\b|\badvantages and disadvantages\b"
    r"|\bstrengths and weaknesses\b"
)
_WEIGHING_HINTS = ("pros", "trade", "advantages", "strengths")
# An expert's role asked of the model ("act as a tax advisor", "I want you to act like an
# architect", "assume the role of"), not of a thing ("the cache should act as a buffer").
_EXPERT_ROLE_HINTS = (
    *(
        f"{verb} {how} a"
        for verb in ("act", "acting", "behave", "behaving")
        for how in ("as", "like")
    ),
    "the role of",
    "pretend",
    "an expert",
)
_EXPERT_ROLE_VERB = re.compile(r"\b(?:act|behave|behaving|acting) (?:as|like) an?\b")
_EXPERT_ROLE_ADDRESSED = ("you", "you to", "you should", "you will", "you must", "please")
_EXPERT_ROLE_PHRASE = re.compile(
    r"\bassume the role of\b|\bpretend (?:to be|you are)\b|\b(?:you are|as) an expert\b"
)
# An ask for code ("write a bash script for ...", "give me kotlin code to ...", "... in rust"):
# code goes to the large tier however short the ask. General programming words,
# not mined from the benchmarks; "app" and "swift" are left out (a bank's app, SWIFT transfers).
_LANGUAGES = (
    "python|javascript|typescript|java|c#|c\\+\\+|rust|golang|kotlin|scala|ruby|php|perl|haskell"
    "|lua|matlab|octave|sql|bash|powershell|vba|julia|dart|elixir|verilog|vhdl|assembly"
    "|pytorch|tensorflow|pandas|numpy|react|django|flask"
)
_CODE_NOUNS = (
    "code|script|program|function|class|snippet|regex|regexp|query|algorithm|bot|module"
    "|library|plugin|macro|parser|engine|api|cli|service|extension"
)
# The families of meaning of a hard ask, by lemma (_lemma folds -s, -es, -ed, -ing, -ation, a
# final e): prove / proof / derive / show that; design / architect; analyse / compare /
# evaluate / assess / SWOT; and plan / schedule / itinerary as the thing asked for ("Make a
# SWOT analysis for ...", "Proof that sqrt(2) is irrational", "Comparison of Kafka and ...",
# "I need a 5-day itinerary"). Read at the head of the ask, after the words that only
# introduce it ("could you please write me a detailed ..."). General words, not mined.
_HARD_FAMILIES = _words(
    "prov proven proof deriv design architect architectur analys analyz analysi compar",
    "comparison contrast evaluat evalu assess assessment critiqu swot",
)
# Planning words count only as a noun ("a plan", "an itinerary"), not as the verb of a tool
# call ("schedule a meeting at 3") or a wish ("I want to plan a trip").
_PLAN_NOUNS = _words("plan itinerary roadmap schedul strategy timetabl")
_INTRODUCING = _words(
    "please pls kindly now so ok okay hey can could would will you help me us let's lets let",
    "i we need want i'd we'd like to make write do give create prepare draft provide produce",
    "perform conduct put together come up with carry out run",
)
_DETERMINERS = _words("a an the my our some this your one")
_MODIFIERS = _words(
    "quick brief short detailed full complete formal rigorous simple thorough comprehensive",
    "deep proper careful rough high level step by new basic good mathematical",
    "day week month year weekly daily",
)
_LEMMA_SUFFIXES = (
    ("isation", "is"),
    ("ization", "iz"),
    ("ations", ""),
    ("ation", ""),
    ("ings", ""),
    ("ing", ""),
    ("ies", "y"),
    ("ied", "y"),
    ("ed", ""),
    ("es", ""),
    ("s", ""),
)


def _lemma(word: str) -> str:
    """A light lemma: "proving", "proves", "proved" -> "prov"; "analyses" -> "analys"."""
    for suffix, replacement in _LEMMA_SUFFIXES:
        if (
            word.endswith(suffix)
            and len(word) - len(suffix) >= 3
            and not (suffix == "s" and word.endswith("ss"))
        ):
            word = word[: -len(suffix)] + replacement
            break
    return word[:-1] if word.endswith("e") and len(word) > 4 else word


def _hard_family(words: Sequence[str]) -> bool:
    """The head of the ask (after introducing words, a determiner and modifiers) is a word of
    a hard task's family, or "show that"."""
    i, n = 0, min(len(words), 12)
    while i < n and words[i] in _INTRODUCING:
        i += 1
    introduced = i > 0
    if i < n - 1 and words[i] == "show" and words[i + 1] == "that":
        return True
    determined = False
    while i < n and (words[i] in _DETERMINERS or words[i] in _MODIFIERS or words[i].isdigit()):
        determined = determined or words[i] in _DETERMINERS
        i += 1
    if i >= n:
        return False
    lemma = _lemma(words[i])
    return lemma in _HARD_FAMILIES or (introduced and determined and lemma in _PLAN_NOUNS)


# Whole families of short logic puzzles that a small model gets wrong however short they are:
# a boolean expression to evaluate, words to sort alphabetically, a bracket sequence to
# complete, truth-tellers and liars, an argument's validity, date arithmetic in MM/DD/YYYY, a
# word to unscramble or spell backwards, nested arithmetic. General forms, not mined.
_PUZZLE = re.compile(
    r"\b(?:sort|order|arrange|alphabeti[sz]e)\b[^.?!\n]{0,40}\b(?:alphabetical(?:ly)?|words)\b"
    r"|(?:[\[\](){}<>]\s*){8,}|\btells? the truth\b|\b(?:deductively )?valid or invalid\b"
    r"|\bmm/dd/yyyy\b|\bunscramble\b|\banagrams?\b"
    r"|\b(?:spell|write)\b[^.?!\n]{0,30}\bbackwards?\b"
    r"|\(\s*-?\d+\s*[-+*/]\s*-?\d+\s*\)\s*[-+*/]\s*\(?\s*-?\d+\s*[-+*/]"
)
_PUZZLE_HINTS = (
    "sort",
    "order",
    "arrang",
    "alphabet",
    "((",
    "[[",
    "{{",
    "<<",
    "truth",
    "valid",
    "mm/dd",
    "scramble",
    "anagram",
    "backward",
    ") ",
    ")*",
    ")+",
    ")-",
)
_BOOLEAN_WORDS = frozenset(("true", "false", "not", "and", "or", "is"))


def _boolean_expression(words: Sequence[str]) -> bool:
    """A boolean expression, "not ( True ) and ( True ) is": mostly true / false / not / and
    / or."""
    if len(words) < 4 or ("true" not in words and "false" not in words):
        return False
    share = sum(1 for w in words if w in _BOOLEAN_WORDS) / len(words)
    return share >= 0.6 and sum(1 for w in words if w in ("true", "false")) >= 2


_CODE_ASK = re.compile(
    rf"\b(?:write|give|show|create|make|generate|provide|build|implement|code)\b(?: me)?"
    rf"[^.?!\n]{{0,50}}\b(?:{_CODE_NOUNS})s?\b"
    rf"|\b(?:in|using|with|for) (?:{_LANGUAGES})(?![\w+#])"
    rf"|\b(?:{_LANGUAGES}) (?:code|script|program|function|class)\b"
)
_CODE_ASK_WORDS = frozenset(
    w.replace("\\", "") for w in (_LANGUAGES + "|" + _CODE_NOUNS).split("|")
) | {"codes", "scripts", "programs", "functions", "classes", "queries", "bots", "apis"}
# Mathematical notation: LaTeX commands, a $...$ formula, exponents, f(x) =, subscripts,
# "mod 7", dy/dx, and the words of calculus and algebra that only maths uses. Calculations go
# to the large tier however short ("What is (6^83 + 8^83) mod 49?"); "$20" is money, not maths.
_FORMULA = re.compile(
    r"\\[a-z]{2,}|\$[^$\n]{0,80}?[\\^_=][^$\n]{0,80}?\$|[\w)]\^[\w({]"
    r"|\b[a-z]\s*\([a-z](?:,\s*[a-z])*\)\s*=|[a-z0-9]_\{|\bmod(?:ulo)?\s+\d|\bd[a-z]/d[a-z]\b"
)
_FORMULA_HINTS = ("\\", "$", "^", "_{", ")=", ") =", "mod", "/d")
# x_1, f_2; "_" first so the search skips to each underscore (snake_case is everywhere)
_SUBSCRIPT = re.compile(r"_(?<=\b[a-z]_)\d\b")
_FORMULA_WORDS = _words(
    "isomorphic converge converges converged eigenvalue eigenvalues derivative integral lim"
)
_DIGIT = re.compile(r"\d")
_NUMBERED = re.compile(r"(?m)^\s*(?:\d+[.)]|[-*\u2022])\s+\S")
_MATH_OPS = re.compile(r"\d\s*[-+*/x\u00d7^=<>]\s*-?\d")
# A value written with separators is one value, not several numbers: a date (2024-02-01,
# 03/14/2024), a time (10:30), an amount (1,240.50), a phone number (+1 415 555 0100).
_VALUE = re.compile(r"(?<!\w)(?:\+\d+(?:[ -]\d+)+|\d+(?:[.,:/-]\d+)*)")
# A date's separators are not a subtraction or a division ("dated 2024-02-01", "03/14/2024").
_DATE = re.compile(r"\b(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}([/.-])\d{1,2}\1(?:\d{4}|\d{2}))\b")
# An ask that hands over a text and asks for a part or a new form of it ("Extract the date and
# amount from this receipt: ...", "What is the order number in this message? "..."",
# "Summarize in one sentence: ..."): the text's numbers and amounts are data to copy, not a
# calculation. The instruction ends where the text starts: a colon, a double quote or a new line.
_HANDED_OVER = re.compile(r':\s|["\u201c\n]')
_READ_ASK = re.compile(
    r"^(?:(?:please|kindly|now|ok|okay)[,!]?\s+)*"
    r"(?:(?:can|could|would|will) you\s+(?:please\s+)?|help me\s+)?"
    r"(?:extract|pull out|copy|parse|highlight|reformat|format|convert|rewrite|summari[sz]e"
    r"|translate|tag|label|redact|mask|proofread)\b"
    r"|\b(?:in|from) (?:the (?:following|above|below)|(?:this|these|the given|the attached) "
    r"(?:text|message|email|e-mail|receipt|invoice|document|note|paragraph|passage|sentence"
    r"|list|table|page|letter|form|record|log|transcript|review|article|report|data|string)s?)\b"
)
# Arithmetic in a text handed over ("12 * 7 + 3"); "12/05" or "3-4 days" there is a date or a range.
_ARITHMETIC = re.compile(r"\d\s*(?:[+*^=\u00d7\u00f7]|\s-\s)\s*-?\d")
_MATH_SYMBOLS = ("\\frac", "sqrt", "|x", "= ", "\u2264", "\u2265", "\u222b", "\u2211")


@dataclass(frozen=True, slots=True)
class RequestView:
    """The parts of a chat request that the scorer reads."""

    text: str  # the last user message, as plain text
    context_chars: int  # characters across all messages, the last one included
    user_turns: int
    tool_results: int  # messages with role "tool" (or legacy "function")
    images: int  # image parts anywhere in the conversation
    tools: int = 0  # tool definitions the request offers
    system_chars: int = 0  # system / developer instructions
    results_since_user: int = 0  # tool results after the last user message
    result_chars: int = 0  # their characters
    calls_since_user: int = 0  # tool calls the assistant made after the last user message
    parallel_calls: int = 0  # the most calls in one assistant message since then
    last_is_tool: bool = False  # the turn is to read a tool result
    tool_names: tuple[str, ...] = ()  # the offered functions' names
    tool_words: tuple[toolfit.ToolWords, ...] = ()  # what each offered function is about

    @property
    def turn_chars(self) -> int:
        """The turn's new input: the last user message and the tool results since it."""
        return len(self.text) + self.result_chars


def message_text(content: Any) -> tuple[str, int]:
    """Plain text and the number of image parts of one message's content."""
    if content is None:
        return "", 0
    if isinstance(content, str):
        return content, 0
    texts: list[str] = []
    images = 0
    if isinstance(content, Sequence):
        for part in content:
            if not isinstance(part, Mapping):
                continue
            kind = part.get("type")
            if kind == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif kind in ("image_url", "input_image", "image"):
                images += 1
    return "\n".join(texts), images


def view_request(
    messages: Sequence[Mapping[str, Any]], tools: Sequence[Any] | None = None
) -> RequestView:
    """Reduce a chat conversation (and the tools it offers) to what the scorer needs."""
    last_user = ""
    context_chars = system_chars = user_turns = tool_results = images = 0
    results_since = result_chars = calls_since = parallel = 0
    role: Any = None
    for message in messages:
        text, n_images = message_text(message.get("content"))
        context_chars += len(text)
        images += n_images
        role = message.get("role")
        if role == "user":
            user_turns += 1
            last_user = text
            results_since = result_chars = calls_since = parallel = 0
        elif role in ("tool", "function"):
            tool_results += 1
            results_since += 1
            result_chars += len(text)
        elif role in ("system", "developer"):
            system_chars += len(text)
        elif role == "assistant":
            calls = message.get("tool_calls")
            n_calls = len(calls) if isinstance(calls, Sequence) else 0
            calls_since += n_calls
            parallel = max(parallel, n_calls)
    return RequestView(
        last_user,
        context_chars,
        user_turns,
        tool_results,
        images,
        tools=len(tools) if tools else 0,
        system_chars=system_chars,
        results_since_user=results_since,
        result_chars=result_chars,
        calls_since_user=calls_since,
        parallel_calls=parallel,
        last_is_tool=role in ("tool", "function"),
        tool_names=_tool_names(tools),
        tool_words=toolfit.offered(tools) if tools else (),
    )


def _tool_names(tools: Sequence[Any] | None) -> tuple[str, ...]:
    names = []
    for tool in tools or ():
        function = tool.get("function") if isinstance(tool, Mapping) else None
        name = function.get("name") if isinstance(function, Mapping) else None
        if isinstance(name, str) and name:
            names.append(name)
    return tuple(names)


def turn_signals(view: RequestView) -> dict[str, float]:
    """The agent-turn signals (TURN_SIGNALS) of a request, each roughly in [0, 5]."""
    return {
        "tools": _log_count(view.tools),
        "policy_chars": math.log1p(max(view.system_chars - POLICY_FREE_CHARS, 0)) / 2,
        **_conversation_so_far(view),
        "results_since_user": _log_count(view.results_since_user),
        "result_chars": math.log1p(view.result_chars) / 2,
        "calls_since_user": _log_count(view.calls_since_user),
        "parallel_calls": _log_count(max(view.parallel_calls - 1, 0)),
        "last_is_tool": 1.0 if view.last_is_tool else 0.0,
    }


# The conversation before this turn: its characters without the instructions (counted as a
# policy), the user's earlier turns and the tool results before the user last spoke.
CONVERSATION_SIGNALS: tuple[str, ...] = ("context_chars", "user_turns", "earlier_results")


def _conversation_so_far(view: RequestView) -> dict[str, float]:
    """How much conversation came before this turn (CONVERSATION_SIGNALS): a long thread to
    reason over. Not with tools: an agent's conversation grows with every call, result and
    follow-up, so it says how far the loop has run, not what the next step needs (read, it
    made follow-ups deep in a booking dialogue look hard). What the step holds is still read
    (the results since the user spoke, their size), and rules.LONG_CONTEXT_CHARS still sends
    a very long agent thread large."""
    if view.tools:
        return dict.fromkeys(CONVERSATION_SIGNALS, 0.0)
    return {
        "context_chars": math.log1p(view.context_chars - view.system_chars) / 2,
        "user_turns": _log_count(max(view.user_turns - 1, 0)),
        "earlier_results": _log_count(view.tool_results - view.results_since_user),
    }


# Letters of scripts the signals and hashed terms do not read: beyond ASCII and the Latin-1 /
# Latin Extended-A and -B accents ("café", "Łódź"). The development data holds no other script.
_OTHER_SCRIPT = re.compile(r"[^\x00-\u024f\W\d_]")
# When most of an ask's non-space characters are such letters ("能帮我查一下天气吗"), its
# words reach no feature, and its score is the prior, not a reading of the ask.
MAX_OTHER_SCRIPT_SHARE = 0.5
SCRIPT_SAMPLE_CHARS = 240  # an ask's script shows in its first sentences


def unreadable(text: str) -> bool:
    """The ask is mostly in a script the scorer's features do not read."""
    sample = text[:SCRIPT_SAMPLE_CHARS]
    if sample.isascii():  # most asks: no regex pass at all
        return False
    visible = len("".join(sample.split()))  # any whitespace, the ideographic space too
    return len(_OTHER_SCRIPT.findall(sample)) > MAX_OTHER_SCRIPT_SHARE * visible


def ask_fit(view: RequestView) -> toolfit.Fit:
    """The ask read against the offered tools (toolfit.fit)."""
    if not view.tool_words:
        return toolfit.NO_FIT
    text = view.text[:MAX_SCAN_CHARS]
    # an id the next call needs may be in the ask or in a result already read
    holds_id = view.tool_results > 0 or toolfit.holds_reference(text)
    return toolfit.fit(text, view.tool_words, holds_id)


def tool_signals(view: RequestView) -> dict[str, float]:
    """The ask against the offered tools (TOOL_SIGNALS), each roughly in [0, 3]."""
    if not view.tool_words:
        return dict.fromkeys(TOOL_SIGNALS, 0.0)
    return fit_signals(ask_fit(view))


def fit_signals(fit: toolfit.Fit) -> dict[str, float]:
    """TOOL_SIGNALS of an ask's fit to the offered tools."""
    return {
        "tool_fit": fit.best,
        "tool_described": _log_count(fit.described),
        "tools_needed": _log_count(max(fit.needed - 1, 0)) * 2,
        "id_gap": 1.0 if fit.id_gap else 0.0,
        "ask_links": _log_count(fit.links),
        "no_tool_fits": 1.0 if fit.best == 0 and fit.described == 0 else 0.0,
    }


def tool_applies(values: Mapping[str, float]) -> bool:
    """Tools are offered and one of them touches the ask (TOOL_SIGNALS)."""
    return bool(values["tools"]) and not values["no_tool_fits"]


def wording_weight(values: Mapping[str, float]) -> float:
    """The weight of the hashed terms for a request with these named signals."""
    return TOOL_WORDING if tool_applies(values) else 1.0


def model_inputs(values: Mapping[str, float]) -> dict[str, float]:
    """The named signals as the model's dense inputs (MODEL_INPUTS; absent ones are zero)."""
    if not tool_applies(values):
        return dict(values)
    out = {TOOL_TEXT_PREFIX + name: values[name] for name in SIGNALS}
    out.update((name, values[name]) for name in TURN_SIGNALS + TOOL_SIGNALS)
    return out


def opening(view: RequestView) -> RequestView:
    """The turn that opened the tool loop a request is in: the same ask, before the calls and
    results since it (what `view` would have been when the user last spoke)."""
    return replace(
        view,
        context_chars=view.context_chars - view.result_chars,
        tool_results=view.tool_results - view.results_since_user,
        results_since_user=0,
        result_chars=0,
        calls_since_user=0,
        parallel_calls=0,
        last_is_tool=False,
    )


def request_features(view: RequestView) -> tuple[dict[str, float], Terms]:
    """Every named signal (ALL_SIGNALS) and the hashed terms of a request's last user message.

    An offered tool's name in the ask ("use get_order") says which tool to call, not that the
    ask is code: it reads as the word "tool"."""
    text = view.text
    for name in view.tool_names:
        if name in text:
            text = text.replace(name, "tool")
    if view.tools:
        text = without_acknowledgement(text)
    values, terms = features(text)
    values.update(turn_signals(view))
    values.update(tool_signals(view))
    return values, terms


# A short reply to the agent before the next ask ("Yes, that works.", "Okay, thanks!"): it
# answers the agent's last question and says nothing about the work the next step needs.
_ACKNOWLEDGEMENT = re.compile(
    r"^\s*(?:yes|yeah|yep|ok|okay|sure|great|perfect|thanks|thank you|nope|alright|cool|"
    r"sounds good|that works|that's (?:great|perfect|fine|right|correct)|correct|right|"
    r"no(?=\s*[,.!]))\b"
    r"[^.!?\n]{0,40}[.!?]+\s+(?=\S)",
    re.IGNORECASE,
)


def without_acknowledgement(text: str) -> str:
    """The message without a short acknowledgement before its ask."""
    return _ACKNOWLEDGEMENT.sub("", text, count=1)


def _listed(word: str, lexicon: frozenset[str]) -> bool:
    """The word or its plural folded ("arrays" -> "array") is in the lexicon; the word itself
    first, so names ending in s ("postgres", "pandas", "aws") match as they are."""
    if word in lexicon:
        return True
    return len(word) > 3 and word[-1] == "s" and word[-2] != "s" and word[:-1] in lexicon


def _about_software(code_words: list[str]) -> bool:
    """The ask names a software technology, or uses two distinct words of software's
    vocabulary ("what database schema ...", "... a query ... the embeddings"); `code_words`:
    its words found in _CODE_TERMS (the code_terms signal's)."""
    distinct = set(code_words) - _DATA_FORMATS
    return len(distinct) >= 2 or any(_listed(w, _SOFTWARE_NAMES) for w in distinct)


def _asks_expert_role(lowered: str) -> bool:
    """The role verb addressed to the model: at the start of a sentence or line, or after
    "you" / "please" ("I want you to act as a ..."), or a role phrase."""
    for match in _EXPERT_ROLE_VERB.finditer(lowered):
        lead = lowered[: match.start()]
        before = lead.rstrip()
        if (
            not before
            or before[-1] in ".!?"
            or "\n" in lead[len(before) :]
            or before.endswith(_EXPERT_ROLE_ADDRESSED)
        ):
            return True
    return _EXPERT_ROLE_PHRASE.search(lowered) is not None


def _arithmetic(lowered: str) -> int:
    """Digits joined by an operator, a date's separators aside (few texts hold either)."""
    if _MATH_OPS.search(lowered) is None:
        return 0
    return sum(1 for _ in _MATH_OPS.finditer(_DATE.sub(" ", lowered)))


def _instruction(lowered: str) -> str:
    """The instruction of an ask that hands over a text to read (_READ_ASK), without the text;
    any other ask whole. A calculation over the text ("the total of: ...") or a text with
    arithmetic in it ("Rewrite in words: 12 * 7 + 3 = 87") is read whole."""
    start = _HANDED_OVER.search(lowered, 0, 200)
    if start is None or not lowered[start.end() :].strip():
        return lowered
    instruction, text = lowered[: start.start()], lowered[start.end() :]
    if (
        not _READ_ASK.search(instruction)
        or any(w in _MATH_TERMS or w in _QUANTITY_WORDS for w in _WORD.findall(instruction))
        or _ARITHMETIC.search(text)
        or any(symbol in text for symbol in _MATH_SYMBOLS)
    ):
        return lowered
    return instruction


def _log_count(n: int) -> float:
    return math.log1p(n)


def is_greeting(text: str) -> bool:
    """Small talk only: "hi", "thanks!", "ok, bye" (a few words, nothing else)."""
    if len(text) > 60:  # before any copying: most messages are long
        return False
    lowered = text.strip().lower()
    if not lowered or len(lowered) > 40:
        return False
    pieces = [p for p in re.split(r"[,;]\s*|\s+and\s+", lowered) if p]
    return all(_GREETING.fullmatch(p) for p in pieces)


@dataclass(frozen=True, slots=True)
class Terms:
    """The hashed terms of a message: its distinct words (each stands for its own bucket and
    its character n-gram buckets, see word_buckets) and the buckets of its distinct bigrams."""

    words: frozenset[str]
    bigrams: frozenset[int]

    def counts(self) -> dict[int, int]:
        """Bucket -> how many distinct terms fall in it: the model's hashed inputs."""
        out: dict[int, int] = {}
        for bucket in self.bigrams:
            out[bucket] = out.get(bucket, 0) + 1
        for word in self.words:
            for bucket in word_buckets(word):
                out[bucket] = out.get(bucket, 0) + 1
        return out


def features(text: str) -> tuple[dict[str, float], Terms]:
    """The named signals and the hashed terms of one message, sharing one tokenisation."""
    lowered = text[:MAX_SCAN_CHARS].lower()
    words = _WORD.findall(lowered)
    return _signals(text, lowered, words), _terms(words)


def signals(text: str) -> dict[str, float]:
    """The named signals of one message; every name in SIGNALS, each roughly in [0, 5]."""
    lowered = text[:MAX_SCAN_CHARS].lower()
    return _signals(text, lowered, _WORD.findall(lowered))


def terms(text: str) -> Terms:
    """The hashed terms of one message."""
    return _terms(_WORD.findall(text[:MAX_SCAN_CHARS].lower()))


def _signals(text: str, lowered: str, words: list[str]) -> dict[str, float]:
    bigrams = set(pairwise(words))
    stack = any(h in lowered for h in _STACK_HINTS) and _STACK_TRACE.search(lowered)
    multi = any(h in lowered for h in _MULTI_STEP_HINTS) and _MULTI_STEP.search(lowered)
    has_digit = _DIGIT.search(lowered) is not None
    asked = _instruction(lowered) if has_digit else lowered
    code_words = [w for w in words if _listed(w, _CODE_TERMS)]
    return {
        "chars": math.log1p(len(text)) / 2,
        # spaces and newlines count words closely enough, without splitting a long text
        "words": math.log1p(text.count(" ") + text.count("\n") + 1) / 2,
        "lines": _log_count(text.count("\n")),
        "greeting": 1.0 if is_greeting(text) else 0.0,
        "code_fence": 1.0 if "```" in text else 0.0,
        "code_syntax": _log_count(
            sum(lowered.count(s) for s in _CODE_SYMBOLS)
            + sum(1 for _ in _CODE_LINES.finditer(lowered))
            # cheap counts first: most prose has neither underscores nor calls
            + (sum(1 for _ in _SNAKE_CASE.finditer(lowered)) if "_" in lowered else 0)
            + (sum(1 for _ in _CALL.finditer(lowered)) if "(" in lowered else 0)
        ),
        "stack_trace": 1.0 if stack else 0.0,
        "code_terms": _log_count(len(code_words)),
        "mixed_case": _log_count(sum(1 for _ in _MIXED_CASE.finditer(text[:MAX_SCAN_CHARS]))),
        "multi_step": 1.0 if multi else 0.0,
        "numbered_list": _log_count(sum(1 for _ in _NUMBERED.finditer(lowered))),
        # beyond the first: one number is an order id, a time or a party size ("a table for 5
        # at 8pm"); a calculation has several
        "numbers": _log_count(max(len(_VALUE.findall(asked)) - 1, 0) if has_digit else 0),
        "math_ops": _log_count(
            (_arithmetic(lowered) if has_digit else 0)
            + sum(lowered.count(s) for s in _MATH_SYMBOLS)
        ),
        "quantity_question": 1.0
        if not bigrams.isdisjoint(_QUANTITY_BIGRAMS) or any(w in _QUANTITY_WORDS for w in words)
        else 0.0,
        "money_or_percent": _log_count(
            asked.count("$") + asked.count("%") + sum(1 for w in words if w in _MONEY_WORDS)
        ),
        "math_terms": _log_count(sum(1 for w in words if w in _MATH_TERMS)),
        "task_verb": _log_count(sum(1 for w in words if w in _TASK_VERBS)),
        "sentences": _log_count(
            lowered.count(". ") + lowered.count("? ") + lowered.count("! ") + lowered.count(".\n")
        ),
        "hard_ask": 1.0
        if _HARD_ASK.search(lowered.lstrip())
        or _hard_family(words)
        or (any(h in lowered for h in _WEIGHING_HINTS) and _WEIGHING.search(lowered))
        or (any(h in lowered for h in _EXPERT_ROLE_HINTS) and _asks_expert_role(lowered))
        else 0.0,
        # the word scan first: most asks name no code word at all
        "code_ask": 1.0
        if any(w in _CODE_ASK_WORDS for w in words) and _CODE_ASK.search(lowered)
        else 0.0,
        "formula": 1.0
        if any(w in _FORMULA_WORDS for w in words)
        or (any(h in lowered for h in _FORMULA_HINTS) and _FORMULA.search(lowered))
        or _SUBSCRIPT.search(lowered)
        else 0.0,
        "puzzle": 1.0
        if _boolean_expression(words)
        or (any(h in lowered for h in _PUZZLE_HINTS) and _PUZZLE.search(lowered))
        else 0.0,
        "software": 1.0 if _about_software(code_words) else 0.0,
    }


def _bucket(term: str) -> int:
    # crc32, not hash(): str hashes are salted per process, the artifact needs stable buckets.
    return zlib.crc32(term.encode()) & (HASH_BUCKETS - 1)


@lru_cache(maxsize=1 << 15)
def word_buckets(word: str) -> tuple[int, ...]:
    """A word's own bucket and its character n-gram buckets (distinct); cached, words recur."""
    padded = f"<{word}>"  # a prefix or suffix gram differs from the same letters inside
    grams = {padded[i : i + CHAR_GRAM] for i in range(len(padded) - CHAR_GRAM + 1)}
    return (_bucket(word), *(_bucket("#" + g) for g in sorted(grams)))


def _terms(words: list[str]) -> Terms:
    return Terms(frozenset(words), frozenset(_bucket(f"{a} {b}") for a, b in pairwise(words)))
