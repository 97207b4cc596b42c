"""Counterfactual agreement: Spearman's ρ of each method's |score| and the largest verified |ΔF|
per position equals a hand computation (held and special tokens left out); it is a typed field
of the attribution that survives JSON; edits of another input or target are refused; the trust
panel shows it beside deletion / insertion."""

from __future__ import annotations

import dataclasses

import pytest

from tests.tolerances import SAME_ARITHMETIC, assert_close
from tests.unit.render.hand_built import simple, tok
from tests.unit.render.hand_built_edits import EFFECTS, hotflip
from whyword.render.trust import trust_html
from whyword.results.edit_agreement import EditAgreement, agreement, edit_effects
from whyword.results.explained_edits import answers_same, with_edit_agreement
from whyword.results.explanation import Explanation

SCORES = [9.0, 0.1, -0.5, 0.3, 0.9]  # position 0 has no verified edit: never compared


def test_the_effect_of_a_position_is_its_largest_verified_change():
    effects = edit_effects(hotflip())
    assert sorted(effects) == sorted(EFFECTS)
    assert_close(
        [effects[p] for p in sorted(EFFECTS)],
        [EFFECTS[p] for p in sorted(EFFECTS)],
        SAME_ARITHMETIC,
    )


def test_rho_equals_the_hand_computation():
    # |score| at 1..4: 0.1 0.5 0.3 0.9 → ranks 1 3 2 4; effects 0.2 1.0 0.5 0.1 → ranks 2 4 3 1;
    # d = -1 -1 -1 3, Σd² = 12, ρ = 1 − 6·12 / (4·(16 − 1)) = −0.2
    e = with_edit_agreement(simple({"saliency": [abs(s) for s in SCORES], "ig": SCORES}), hotflip())
    for a in e.attributions:  # the sign does not matter: both sides are magnitudes
        assert_close(a.edit_agreement.rho, -0.2, SAME_ARITHMETIC)
        assert a.edit_agreement.positions == (1, 2, 3, 4) and a.edit_agreement.edits == 5
        assert_close(list(a.edit_agreement.effects), [0.2, 1.0, 0.5, 0.1], SAME_ARITHMETIC)


def test_held_and_special_tokens_are_left_out():
    # held 1: |score| 0.5 0.3 0.9 → ranks 2 1 3; effects 1.0 0.5 0.1 → 3 2 1; Σd² = 6,
    # ρ = 1 − 6·6 / (3·8) = −0.5
    e = with_edit_agreement(simple({"ig": SCORES}, held=(1,)), hotflip())
    assert_close(e.attributions[0].edit_agreement.rho, -0.5, SAME_ARITHMETIC)
    base = simple({"ig": SCORES})
    tokens = (*base.tokens[:3], tok(3, " France", special=True), base.tokens[4])
    special = with_edit_agreement(dataclasses.replace(base, tokens=tokens), hotflip())
    assert special.attributions[0].edit_agreement.positions == (1, 2, 4)


def test_constant_scores_give_no_rho_and_the_field_survives_json():
    flat = agreement((1.0, 1.0, 1.0), {0: 0.5, 1: 0.2, 2: 0.1})
    assert flat.rho is None and flat.positions == (0, 1, 2)
    e = with_edit_agreement(simple({"ig": SCORES}), hotflip())
    back = Explanation.from_json(e.to_json())
    assert back == e and isinstance(back.attributions[0].edit_agreement, EditAgreement)
    with pytest.raises(AssertionError):
        EditAgreement(0.5, (2, 1), (0.1, 0.2), 2)  # positions ascending


def test_edits_of_another_input_or_target_are_refused_in_one_sentence():
    e = simple({"ig": SCORES})
    assert answers_same(e, hotflip()) is None
    other = dataclasses.replace(e, target_ids=(8,))
    assert answers_same(other, hotflip()) == (
        "The edits answer another target or foil than the heatmap's."
    )
    with pytest.raises(ValueError, match="another text or model"):
        with_edit_agreement(dataclasses.replace(e, tokens=e.tokens[:4], attributions=()), hotflip())


def test_the_trust_panel_shows_it_beside_deletion_and_insertion():
    assert "verified edits" not in trust_html(simple({"ig": SCORES}))
    html = trust_html(with_edit_agreement(simple({"ig": SCORES, "saliency": SCORES}), hotflip()))
    assert "Do the scores match verified edits?" in html and "−0.20" not in html
    assert html.count(">-0.20<") == 2 and "by chance?" in html  # 4 tokens: a hint only
    assert "over 5 edits each run through the model" in html
