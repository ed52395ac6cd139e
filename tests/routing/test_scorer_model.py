from __future__ import annotations

import json
import math

from shared.routing import model
from shared.routing.features import ALL_SIGNALS, HASH_BITS, MODEL_INPUTS, SIGNALS, Terms, features
from shared.routing.scorer import LocalScorer


def tiny(support: model.Support | None = None, tools_weight: float = 0.0) -> model.ScorerModel:
    zero = dict.fromkeys(ALL_SIGNALS, 0.0)
    return model.ScorerModel(
        hash_bits=HASH_BITS,
        need=model.Head(-1.0, {**zero, "numbers": 2.0, "tools": tools_weight}, {7: 0.5}),
        gain=model.Head(0.0, zero, {7: -0.25, 9: 1.0}),
        blend=model.Blend(need_cap=2.0, gain_weight=0.5, scale=1.0, offset=0.0),
        signal_means=zero,
        support=support,
    )


def test_round_trip_through_json() -> None:
    m = tiny()
    again = model.ScorerModel.from_dict(json.loads(json.dumps(m.to_dict())))
    assert again.need == m.need
    assert again.gain == m.gain
    assert again.blend == m.blend
    guarded = tiny(model.Support(0.5, 5, {"tools": (100, 9, 0)}))
    again = model.ScorerModel.from_dict(json.loads(json.dumps(guarded.to_dict())))
    assert again.support == guarded.support


def test_support_finds_requests_unlike_the_training_data() -> None:
    support = model.Support(0.5, 5, {"tools": (100, 0, 9, 3)})
    assert support.unfamiliar({"tools": 0.0}) is None
    assert support.unfamiliar({"tools": 0.7}) is None  # band 1: between seen bands
    assert support.unfamiliar({"tools": 1.2}) is None  # band 2: 9 requests
    assert support.unfamiliar({"tools": 1.7}) == "tools"  # band 3: 3 requests, beyond the range
    assert support.unfamiliar({"tools": 40.0}) == "tools"  # past the last band: open-ended


def test_support_clamps_signals_into_the_seen_range() -> None:
    support = model.Support(0.5, 5, {"tools": (0, 9, 9, 3)})  # seen: bands 1 and 2
    assert support.clamped({"tools": 0.2, "chars": 7.0}) == {"tools": 0.5, "chars": 7.0}
    assert support.clamped({"tools": 1.2})["tools"] == 1.2
    high = support.clamped({"tools": 40.0})["tools"]
    assert 1.49 < high < 1.5
    assert support.unfamiliar({"tools": high}) is None


PARCEL = [{"role": "user", "content": "where is my parcel"}]
MANY_TOOLS = [{"type": "function", "function": {"name": f"t{i}"}} for i in range(30)]
NEVER_MORE_THAN_NO_TOOLS = model.Support(0.5, 5, {"tools": (100, 0, 0, 0, 0, 0)})


def test_an_unfamiliar_value_that_pushes_toward_large_abstains_unless_a_rule_settles_it() -> None:
    # more tools read as harder (weight 0.5), or as nothing the model learned (weight 0)
    for weight in (0.5, 0.0):
        unusual = LocalScorer(tiny(NEVER_MORE_THAN_NO_TOOLS, weight)).score(PARCEL, MANY_TOOLS)
        assert unusual.abstain, weight
        assert unusual.signal == "unfamiliar tools"
    scorer = LocalScorer(tiny(NEVER_MORE_THAN_NO_TOOLS, tools_weight=0.5))
    assert not scorer.score(PARCEL).abstain
    ruled = scorer.score([{"role": "user", "content": "hi"}], MANY_TOOLS)
    assert (ruled.signal, ruled.abstain) == ("greeting", False)


def test_an_unfamiliar_value_that_pushes_toward_small_is_read_at_the_edge_of_the_range() -> None:
    # more tools read as simpler: extrapolating to 30 would lower the score, so the score at
    # the most tools training saw decides, locally
    scorer = LocalScorer(tiny(NEVER_MORE_THAN_NO_TOOLS, tools_weight=-0.5))
    unusual = scorer.score(PARCEL, MANY_TOOLS)
    assert not unusual.abstain
    assert unusual.signal == "tools past the seen range"
    extrapolated = LocalScorer(tiny(None, tools_weight=-0.5)).score(PARCEL, MANY_TOOLS)
    assert unusual.p_large > extrapolated.p_large


def test_logits_add_bias_signals_and_terms() -> None:
    m = tiny()
    terms = Terms(words=frozenset(), bigrams=frozenset({7, 9, 123}))
    logits = m.logits({**dict.fromkeys(SIGNALS, 0.0), "numbers": 1.0}, terms)
    assert logits.need == -1.0 + 2.0 + 0.5
    assert logits.gain == -0.25 + 1.0
    assert logits.need_wording == 0.5


def test_fast_word_path_equals_the_sum_over_bucket_counts() -> None:
    # inference sums cached per-word weights; training sees bucket counts: they must agree
    shipped = model.load()
    zero = dict.fromkeys(SIGNALS, 0.0)
    for text in ["how do i reset my password", "Visualize pandas dataframe in gradio", "hi hi hi"]:
        _, terms = features(text)
        expected = shipped.need.bias + sum(
            shipped.need.hashed.get(b, 0.0) * n for b, n in terms.counts().items()
        )
        assert math.isclose(shipped.logits(zero, terms).need, expected, abs_tol=1e-9)


def test_blend_caps_the_need_logit() -> None:
    blend = model.Blend(need_cap=2.0, gain_weight=1.0, scale=1.0, offset=0.0)
    assert blend.probability(10.0, 0.0) == blend.probability(2.0, 0.0)
    assert blend.probability(10.0, 1.0) > blend.probability(10.0, 0.0)
    assert math.isclose(blend.probability(-2.0, 0.0), 1 / (1 + math.exp(2.0)))
    assert 0.0 <= blend.probability(-1e6, -1e6) < 1e-9  # no overflow


def test_shipped_artifact_is_small_and_loads() -> None:
    assert model.ARTIFACT.stat().st_size < 2_000_000  # the bound
    shipped = model.load()
    assert shipped.hash_bits == HASH_BITS
    assert set(shipped.need.dense) == set(MODEL_INPUTS)
    values, terms = features("how do i reset my password")
    assert 0.0 <= shipped.probability(shipped.logits(values, terms)) <= 1.0


def test_a_local_scorer_runs_any_model_and_names_its_reason() -> None:
    scorer = LocalScorer(tiny())
    many_numbers = scorer.score([{"role": "user", "content": "12 34 56 78 90 12 34 56"}])
    assert many_numbers.p_large > 0.5
    assert many_numbers.signal == "math"
    plain = scorer.score([{"role": "user", "content": "where is my parcel"}])
    assert plain.p_large < 0.5
    assert plain.signal == "faq wording"
