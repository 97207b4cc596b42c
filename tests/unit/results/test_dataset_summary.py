"""A dataset run's summary (whyword/results/dataset.py, whyword/results/stats.py): means,
bootstrap intervals, first-ranked tokens and failed rows against hand computations, and the
records' invariants and round trip through the file's plain types."""

from __future__ import annotations

import pytest

from tests.tolerances import SAME_ARITHMETIC, assert_close
from whyword.results.dataset import COLUMNS, DatasetRow, RowResult, summarize, top_token
from whyword.results.stats import bootstrap_mean


def ok(row_id, method, tokens, scores, deletion=None, insertion=None):
    rnd = None if deletion is None else 0.5
    return RowResult(
        row_id, "text", " t", None, "m", method, tuple(tokens), tuple(scores), "log p(target)",
        -1.0, deletion, insertion, rnd, rnd, "ok", None,
    )  # fmt: skip


def failed(row_id, method, reason):
    return RowResult.failed(DatasetRow(row_id, ""), "m", method, reason)


RESULTS = [
    ok("0", "saliency", ["a", " cat"], [0.2, 0.9], 0.1, 0.8),
    ok("0", "occlusion", ["a", " cat"], [0.5, -0.1], 0.3, 0.6),
    ok("1", "saliency", ["a", " dog", " cat"], [0.4, 0.1, 0.7], 0.2, 0.9),
    ok("1", "occlusion", ["a", " dog", " cat"], [0.3, 0.3, 0.0], 0.5, 0.4),
    ok("2", "saliency", ["the", " cat"], [0.6, 0.6]),  # no curves; a tie: the first token
    ok("2", "occlusion", ["the", " cat"], [-0.2, -0.1]),  # all negative: the largest is first
    failed("3", "saliency", "Row 3's text is empty."),
    failed("3", "occlusion", "Row 3's text is empty."),
]


def test_summary_numbers_equal_a_hand_computation():
    s = summarize(RESULTS)
    assert (s.model, s.rows, s.ok) == ("m", 4, 3)
    assert s.failed == (("3", "Row 3's text is empty."),)
    sal, occ = s.methods
    assert (sal.method, sal.rows, sal.curves) == ("saliency", 3, 2)
    assert_close(sal.deletion[0], (0.1 + 0.2) / 2, SAME_ARITHMETIC, "mean deletion")
    assert_close(sal.insertion[0], (0.8 + 0.9) / 2, SAME_ARITHMETIC, "mean insertion")
    assert_close(occ.deletion[0], (0.3 + 0.5) / 2, SAME_ARITHMETIC, "mean deletion")
    assert (sal.random_deletion, occ.random_insertion) == (0.5, 0.5)
    # first-ranked: saliency " cat", " cat", "the" (tie → first); occlusion "a", "a", " cat"
    assert sal.top_tokens == ((" cat", 2), ("the", 1))
    assert occ.top_tokens == (("a", 2), (" cat", 1))


def test_bootstrap_interval_of_two_values_spans_the_resampled_means():
    # Resampling {0, 1} twice gives means 0, 1/2, 1 with probabilities 1/4, 1/2, 1/4: the 2.5th
    # percentile of 2,000 resampled means is 0 and the 97.5th is 1 (500 expected at each end,
    # 50 needed), while the mean is 1/2.
    assert bootstrap_mean([0.0, 1.0]) == (0.5, 0.0, 1.0)
    assert bootstrap_mean([0.25] * 7) == (0.25, 0.25, 0.25)  # no spread, no width
    mean, low, high = bootstrap_mean([0.1, 0.2, 0.3, 0.9])
    assert low < mean < high and (low, high) == bootstrap_mean([0.1, 0.2, 0.3, 0.9])[1:]
    with pytest.raises(ValueError):
        bootstrap_mean([])


def test_top_token_and_record_round_trip():
    record = RESULTS[2]
    assert top_token(record) == " cat"
    plain = record.to_record()
    assert tuple(plain) == COLUMNS and isinstance(plain["tokens"], list)
    assert RowResult.from_record(plain) == record
    assert RowResult.from_record({**RESULTS[6].to_record(), "id": 3}) == RESULTS[6]


@pytest.mark.parametrize(
    "change",
    [
        {"status": "failed"},  # failed without a reason
        {"reason": "why"},  # a reason on an ok row
        {"scores": (1.0,)},  # one score per token
        {"deletion": None},  # both areas or neither
        {"status": "done"},
    ],
)
def test_records_check_their_invariants(change):
    values = {c: getattr(RESULTS[0], c) for c in COLUMNS}
    with pytest.raises(AssertionError):
        RowResult(**{**values, **change})
