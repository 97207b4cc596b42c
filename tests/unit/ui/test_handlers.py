"""Every page event, called as the plain function the page calls (no server, no browser): submit,
retargeting (a bar click, the dropdown, any word), the foil, and masked mode."""

from __future__ import annotations

import pytest

from tests.unit.ui.handlers_kit import FAST, ok
from whyword.ui import handlers
from whyword.ui.share import Query, parse_target, token_ref

pytestmark = pytest.mark.usefixtures("local_limits")


# --- submit ----------------------------------------------------------------------------------


def test_submit_shows_topk_heatmap_trust_and_state(gpt2_view):
    outcome, state = gpt2_view
    e = outcome.explanation
    assert not outcome.reused and outcome.seconds > 0
    assert {a.method for a in e.attributions} == {"saliency", "integrated_gradients"}
    figure = handlers.topk_figure(e)
    assert list(figure.data[0].customdata) == [c.token_id for c in e.predictions[0].candidates]
    assert "␣is</span>" in handlers.heatmap(e, outcome.query)
    assert [v for _, v in handlers.target_choices(e)] == [
        token_ref(c.token_id) for c in e.predictions[0].candidates
    ]
    assert handlers.foil_choices(e)[0] == ("— no foil —", "")
    assert handlers.mask_choices(e) == []
    assert state["query"]["text"] == "The capital of France is"
    assert state["query"]["target"] == token_ref(e.target_ids[0])  # top-1 shown as its entry
    assert "Time:" in handlers.status_markdown(outcome)


def test_submit_of_new_text_resets_target_and_foil(gpt2_view, tiny_paths):
    _, state = gpt2_view
    query = Query(
        text="To be or not to", model=tiny_paths["gpt2"], target="id:5", foil="id:6", **FAST
    )
    e = ok(handlers.on_submit(query, state)).explanation
    assert e.foil is None and e.target_ids == (e.predictions[0].candidates[0].token_id,)


def test_submit_of_same_text_keeps_target_and_reuses_predictions(gpt2_view):
    outcome, state = gpt2_view
    second = outcome.explanation.predictions[0].candidates[1].token_id
    query = outcome.query.with_(target=token_ref(second), methods=("occlusion",))
    again = ok(handlers.on_submit(query, state))
    assert again.reused and again.explanation.target_ids == (second,)
    assert [a.method for a in again.explanation.attributions] == ["occlusion"]


@pytest.mark.slow
def test_submit_on_the_default_model_predicts_paris(smol):
    query = Query(text="The capital of France is", methods=("saliency",), k=5)
    outcome = ok(handlers.on_submit(query))
    e = outcome.explanation
    assert e.predictions[0].candidates[0].text == " Paris"
    assert e.target == " Paris" and e.target_probability > 0.5
    assert handlers.effective_query(outcome).target == token_ref(e.target_ids[0])
    assert "next token" in handlers.result_mode_note(e)


# --- retargeting: click, dropdown, any word --------------------------------------------------


def test_click_on_a_bar_retargets_without_new_predictions(gpt2_view, monkeypatch):
    outcome, state = gpt2_view
    from whyword.tasks import explain as explain_module

    def no_forward(*args, **kwargs):
        raise AssertionError("predictions were recomputed")

    monkeypatch.setattr(explain_module, "compute_predictions", no_forward)
    third = outcome.explanation.predictions[0].candidates[2].token_id
    clicked = ok(handlers.on_bar_click(f"{third}:1712345", "target", outcome.query, state))
    assert clicked.reused
    assert clicked.explanation.target_ids == (third,)
    assert clicked.explanation.predictions == outcome.explanation.predictions
    colours = handlers.topk_figure(clicked.explanation).data[0].marker.color
    assert colours[2] != colours[0]  # the clicked bar is highlighted, the old top-1 is not
    assert handlers.next_state(clicked, state)["query"]["target"] == token_ref(third)


def test_click_in_foil_role_sets_the_foil(gpt2_view):
    outcome, state = gpt2_view
    second = outcome.explanation.predictions[0].candidates[1].token_id
    e = ok(handlers.on_bar_click(str(second), "foil", outcome.query, state)).explanation
    assert e.objective == "contrastive" and e.foil_ids == (second,)
    assert e.target_ids == outcome.explanation.target_ids


def test_click_without_a_token_id_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    bad = handlers.on_bar_click("undefined", "target", outcome.query, state)
    assert not bad.ok and "token id" in bad.error
    assert handlers.next_state(bad, state) is state


def test_target_dropdown_retargets(gpt2_view):
    outcome, state = gpt2_view
    value = handlers.target_choices(outcome.explanation)[3][1]
    e = ok(handlers.on_pick_target(value, outcome.query, state)).explanation
    assert e.target_ids == (parse_target(value),)


def test_any_word_retargets(gpt2_view):
    outcome, state = gpt2_view
    e = ok(handlers.on_word("Rome", outcome.query, state)).explanation
    assert e.target.strip() == "Rome" and e.target.startswith(" ")


def test_empty_word_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    assert "Type a word" in handlers.on_word("  ", outcome.query, state).error


def test_retarget_explains_the_view_on_screen_not_the_edited_text(gpt2_view):
    outcome, state = gpt2_view
    edited = outcome.query.with_(text="Something typed but not submitted")
    clicked = ok(handlers.on_pick_target("", edited, state))
    assert clicked.explanation.text == outcome.query.text and clicked.reused


# --- foil ------------------------------------------------------------------------------------


def test_set_and_clear_foil(gpt2_view):
    outcome, state = gpt2_view
    foil = handlers.foil_choices(outcome.explanation)[2][1]
    with_foil = ok(handlers.on_foil(foil, outcome.query, state))
    e = with_foil.explanation
    assert e.formula == "log p(target) − log p(foil)" and e.foil_ids == (parse_target(foil),)
    assert handlers.effective_query(with_foil).foil == foil
    state2 = handlers.next_state(with_foil, state)
    cleared = ok(handlers.on_clear_foil(Query.from_dict(state2["query"]), state2)).explanation
    assert cleared.foil is None and cleared.objective == "log_prob"
    assert cleared.target_ids == e.target_ids


def test_foil_equal_to_target_is_a_message(gpt2_view):
    outcome, state = gpt2_view
    same = token_ref(outcome.explanation.target_ids[0])
    bad = handlers.on_foil(same, outcome.query, state)
    assert not bad.ok and "same as the target" in bad.error


def test_foil_as_a_free_word(gpt2_view):
    outcome, state = gpt2_view
    e = ok(handlers.on_foil("Rome", outcome.query, state)).explanation
    assert e.foil.strip() == "Rome"


# --- masked mode -----------------------------------------------------------------------------


def test_mask_selection_has_a_target_per_mask(tiny_paths):
    query = Query(text="the capital of [MASK] is [MASK] .", model=tiny_paths["bert"], **FAST)
    first = ok(handlers.on_submit(query))
    e = first.explanation
    assert e.mode == "masked" and len(handlers.mask_choices(e)) == 2
    state = handlers.next_state(first, None)
    picked = handlers.target_choices(e)[2][1]
    on_first = ok(handlers.on_pick_target(picked, first.query, state))
    state = handlers.next_state(on_first, state)
    second = ok(handlers.on_mask(1, Query.from_dict(state["query"]), state))
    assert second.reused and second.explanation.mask == 1
    assert second.explanation.target_ids == (e.predictions[1].candidates[0].token_id,)
    assert "[MASK] 2" in handlers.chart_title(second.explanation)
    state = handlers.next_state(second, state)
    back = ok(handlers.on_mask(0, Query.from_dict(state["query"]), state))
    assert back.explanation.target_ids == (parse_target(picked),)  # remembered per mask


def test_masked_model_without_a_mask_is_a_message(tiny_paths):
    bad = handlers.on_submit(Query(text="the capital of france", model=tiny_paths["bert"], **FAST))
    assert not bad.ok and "[MASK]" in bad.error


def test_mode_note_follows_model_and_text(tiny_paths):
    assert "next token" in handlers.mode_note("The capital of", "default")
    assert "infill" in handlers.mode_note("The capital of [MASK].", "default")
    assert "fill mask" in handlers.mode_note("a [MASK] b [MASK]", tiny_paths["bert"])
    assert "2 masks" in handlers.mode_note("a [MASK] b [MASK]", tiny_paths["bert"])
    assert "put [MASK]" in handlers.mode_note("no mask here", tiny_paths["bert"])
    assert "detected when" in handlers.mode_note("x", "/no/such/folder")


@pytest.mark.slow
def test_mask_on_a_causal_model_uses_infill_and_says_so(smol):
    query = Query(text="The capital of France is [MASK].", methods=("saliency",), k=5)
    e = ok(handlers.on_submit(query)).explanation
    assert e.mode == "infill" and "infill" in handlers.result_mode_note(e)
    assert e.predictions[0].candidates[0].text == " Paris"
    assert any("Infill scoring" in note for note in e.notes)
