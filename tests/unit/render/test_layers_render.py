"""The Layers tab's pictures from hand-built results: the lens table (escaped, coloured by
probability, the target and foil marked), the rank line, the legend, the heads × layers grid,
the MLP bars, the agreement, a head's numbers, the note without components, the downloads."""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import replace

from tests.unit.render.hand_built import ALLOWED_ATTRS, ALLOWED_TAGS, parse
from tests.unit.render.hand_built_layers import LONDON, PARIS, SCRIPT, direct_logits, lens
from whyword.render import colours
from whyword.render import components as parts
from whyword.render import layers as draw


def cells(markup: str) -> list[dict[str, str]]:
    """The lens table's token cells: their attributes and text."""
    out = []
    for m in re.finditer(r'<td class="([^"]*)" title="([^"]*)" style="([^"]*)">(.*?)</td>', markup):
        out.append({"class": m[1], "title": m[2], "style": m[3], "text": m[4]})
    return out


def safe(markup: str) -> None:
    low = markup.lower()
    assert "<script" not in low and "<img" not in low
    doc = parse(markup)
    assert set(doc.tags) <= ALLOWED_TAGS, set(doc.tags) - ALLOWED_TAGS
    assert {k for k, _ in doc.attrs} <= ALLOWED_ATTRS | {"class"}


def test_table_escapes_a_script_token_and_marks_the_target_and_foil():
    markup = draw.lens_table_html(lens())
    safe(markup)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    found = cells(markup)
    assert len(found) == 4 * 2  # four layers × the top-2
    targets = [c for c in found if "ww-ly-target" in c["class"]]
    foils = [c for c in found if "ww-ly-foil" in c["class"]]
    assert len(targets) == 2 and all(colours.TARGET_COLOUR in c["style"] for c in targets)
    assert all(draw.TARGET_MARK in c["text"] and "␣Paris" in c["text"] for c in targets)
    assert len(foils) == 2 and all(colours.FOIL_COLOUR in c["style"] for c in foils)
    assert all(draw.FOIL_MARK in c["text"] for c in foils)
    assert draw.FOIL_MARK not in draw.lens_table_html(lens(foil=False))


def test_cells_are_coloured_by_probability():
    found = cells(draw.lens_table_html(lens()))
    by_p = {}
    for c in found:
        p = float(re.search(r"p = ([0-9.]+)", c["title"])[1])
        bg = re.search(r"background:(#[0-9a-f]{6});", c["style"])[1]
        by_p[p] = bg
        assert bg == draw.cell_colour(p)[0]
    rgb = {p: tuple(int(bg[i : i + 2], 16) for i in (1, 3, 5)) for p, bg in by_p.items()}
    ordered = sorted(rgb)  # likelier: darker, strictly, on the one sequential scale
    lightness = [colours.luminance(rgb[p]) for p in ordered]
    assert all(a > b for a, b in zip(lightness, lightness[1:], strict=False)), lightness
    assert draw.cell_colour(0.0)[0] == colours.hex_colour(colours.NEUTRAL)


def test_rank_line_is_log_scale_with_rank_one_on_top():
    fig = draw.rank_figure(lens(), k=5)
    target, foil = fig.data
    assert list(target.y) == [40, 3, 2, 1] and list(foil.y) == [20, 2, 4, 2]
    assert target.line.color == colours.TARGET_COLOUR and foil.line.color == colours.FOIL_COLOUR
    axis = fig.layout.yaxis
    assert axis.type == "log" and axis.range[0] > math.log10(40) and axis.range[1] < 0
    assert len(draw.rank_figure(lens(foil=False)).data) == 1


def test_legend_says_where_the_target_enters_the_top_k():
    text = draw.legend_text(lens(), k=2)
    assert text.startswith("Layer 2 is where ␣Paris first reaches the top 2.")
    assert "Layer 1 is where ␣London first reaches the top 2." in text
    assert "p = 0.800 (rank 1)" in text
    assert "␣Paris never reaches the top 0" not in draw.legend_text(lens(), k=1)
    assert "Layer 3 is where ␣Paris first reaches the top 1." in draw.legend_text(lens(), k=1)


def test_heads_grid_is_layers_by_heads_on_the_diverging_scale():
    d = direct_logits()
    fig = parts.heads_figure(d)
    heat = fig.data[0]
    assert [list(r) for r in heat.z] == [[0.1, -0.2], [-1.5, 0.3], [0.4, 2.5]]
    assert heat.zmin == -2.5 and heat.zmax == 2.5 and heat.zmid == 0
    assert heat.colorscale[0][1] == "rgb({},{},{})".format(*colours.BLUE)
    assert heat.colorscale[-1][1] == "rgb({},{},{})".format(*colours.RED)
    assert heat.customdata[2][1] == "3.1"  # a click on L3.H1 sends "3.1"
    checked = {(i + 1, j) for i, row in enumerate(heat.text) for j, t in enumerate(row) if t}
    assert checked == {(3, 1), (2, 0)}  # the heads among the top 3 checked by ablation


def test_mlp_bars_carry_the_sign_in_their_colour():
    fig = parts.mlp_figure(direct_logits())
    assert list(fig.data[0].y) == [0.05, -0.3, 1.0]
    top, down = fig.data[0].marker.color[2], fig.data[0].marker.color[1]
    assert top == colours.hex_colour(colours.RED) and down != top
    assert down == colours.hex_colour(colours.diverging(-0.3))


def test_agreement_states_the_objective_gap_and_rho():
    d = direct_logits()
    markup = parts.agreement_html(d, " Paris", " London")
    safe(markup)
    assert "logit(␣Paris) − logit(␣London)" in markup
    assert "+2.560" in markup and "+2.550" in markup and "gap -1.00e-02" in markup
    assert "Spearman ρ = +1.00 (zeroed)" in markup and "L3.H1" in markup
    bare = parts.agreement_html(direct_logits(checked=False), " Paris", None)
    assert "No component was checked" in bare and "<table" not in bare


def test_head_picker_and_one_heads_numbers():
    d = direct_logits()
    assert parts.head_choices(d)[0] == ("L3.H1  (DLA +2.50)", "3.1")
    head = parts.parse_head("3.1:1712345", d)
    assert (head.layer, head.head) == (3, 1)
    assert parts.parse_head("9.9", d) is None and parts.parse_head("<b>", d) is None
    shown = parts.head_html(d, head, foil=True)
    assert "DLA +2.5000" in shown and "by -2.0000 (zeroed) and -1.0000 (mean)" in shown
    quiet = parts.head_html(d, parts.parse_head("1.0", d), foil=True)
    assert "Not among the top 3 checked by ablation." in quiet


def test_no_components_is_one_line():
    assert lens().components is None
    assert parts.NO_COMPONENTS.count(".") == 1 and "\n" not in parts.NO_COMPONENTS
    assert draw.components_csv(lens()) is None


def test_downloads_carry_the_metadata_and_defuse_formulas():
    x = lens(components=direct_logits())
    text = draw.lens_csv(x)
    assert text.startswith("# WhyWord ")
    rows = list(csv.DictReader(io.StringIO(text.split("\n", 1)[1])))
    assert [int(r["target_rank"]) for r in rows] == [40, 3, 2, 1]
    assert {r["model"] for r in rows} == {"tiny/<b>model</b>"} and rows[0]["target"] == " Paris"
    assert rows[0]["position_token"] == " is" and rows[0]["foil"] == " London"
    comps = list(csv.DictReader(io.StringIO(draw.components_csv(x).split("\n", 1)[1])))
    assert len(comps) == 10 and comps[0]["objective"] == "logit difference"
    checked = [r for r in comps if r["zero_ablation_delta_log_prob"]]
    assert {r["component"] for r in checked} == {"L3.H1", "L2.H0", "MLP 3"}
    back = json.loads(draw.lens_json(x))
    assert back["whyword_version"] and back["target_id"] == PARIS and back["foil_id"] == LONDON
    assert back["components"]["zero_agreement"] == 1.0
    assert back["rows"][0]["top"][0]["text"] == SCRIPT  # exact in the JSON
    formula = draw.lens_csv(replace(x, text="=1+1")).split("\n", 1)[1]
    # a spreadsheet shows it, never runs it
    assert next(csv.DictReader(io.StringIO(formula)))["text"] == "'=1+1"


def test_a_heads_attention_strip_is_escaped_and_coloured_by_weight():
    from whyword.render.components import attention_html
    from whyword.results.attention import HeadAttention
    from whyword.text.tokens import Token

    tokens = tuple(
        Token(id=i, text=t, label=t, special=False) for i, t in enumerate(["<script>", " is", "!"])
    )
    seen = HeadAttention(
        model="m", kind="causal", text="<script> is!", tokens=tokens, position=2, layer=1, head=0,
        weights=(0.75, 0.25, 0.0), moved=(3.0, 0.5, 0.0), moved_grid=((3.5,),), layers=1,
        heads=1, kv_heads=1,
    )  # fmt: skip
    html = attention_html(seen)
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "moved most from &lt;script&gt; (attention 75 %)" in html
    assert html.count("outline:2px solid") == 2  # the reading token, in both strips
    dark, light = (
        colours.hex_colour(colours.sequential(0.75)),
        colours.hex_colour(colours.sequential(0.0)),
    )
    assert dark in html and light in html
