"""The app as a client sees it: launched in-process, called through gradio_client."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def client():
    from gradio_client import Client

    import app

    patch = pytest.MonkeyPatch()
    patch.delenv("WHYWORD_HOSTED", raising=False)
    patch.delenv("SPACE_ID", raising=False)
    port = free_port()
    app.demo.launch(prevent_thread_lock=True, server_port=port, quiet=True)
    try:
        yield Client(f"http://127.0.0.1:{port}/", verbose=False)
    finally:
        app.demo.close()
        patch.undo()


def test_importing_app_loads_no_model():
    code = (
        "import app, sys; from whyword.models.load import loaded_models; "
        "print(loaded_models(), 'gradio' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "[] True"


def test_explain_endpoint_predicts_paris_with_scores(client):
    data, page = client.predict(
        "The capital of France is",
        "default",
        "",
        "",
        "saliency,integrated_gradients",
        8,
        "zero",
        5,
        0,
        api_name="/explain",
    )
    assert data["predictions"][0]["candidates"][0]["text"] == " Paris"
    assert data["target"] == " Paris" and data["objective"] == "log_prob"
    n = len(data["tokens"])
    scores = {a["method"]: a["scores"] for a in data["attributions"]}
    assert set(scores) == {"saliency", "integrated_gradients"}
    assert all(len(s) == n and any(v != 0 for v in s) for s in scores.values())
    ig = next(a for a in data["attributions"] if a["method"] == "integrated_gradients")
    assert ig["convergence_delta"] is not None
    assert "Paris" in page and "France" in page


def test_explain_endpoint_with_target_and_foil(client):
    data, _ = client.predict(
        "The keys to the cabinet",
        target="are",
        foil="is",
        methods="saliency",
        k=3,
        api_name="/explain",
    )
    assert data["target"] == " are" and data["foil"] == " is"
    assert data["formula"] == "log p(target) − log p(foil)"


def test_predict_endpoint(client):
    rows = client.predict("The capital of France is", "default", 3, api_name="/predict")
    assert [r["rank"] for r in rows] == [1, 2, 3]
    assert rows[0]["token"] == "␣Paris" and rows[0]["probability"] > 0.5


def test_errors_come_back_as_messages(client):
    with pytest.raises(Exception, match="empty"):
        client.predict("", api_name="/explain")
    with pytest.raises(Exception, match="no such folder"):
        client.predict("hello", "/no/such/model", api_name="/predict")


def test_the_api_page_lists_the_plain_endpoints(client):
    named = client.view_api(print_info=False, return_format="dict")["named_endpoints"]
    routes = {"/explain", "/predict", "/positions", "/generate", "/evidence", "/layers", "/attention"}
    routes |= {"/counterfactuals"}
    assert routes <= set(named)


def test_wrong_values_come_back_as_whyword_sentences(client, capfd):
    """Issue 27's finds, through the launched app: gradio's generic message and its own
    "not in the list of choices" were what a client read, and each printed a traceback."""
    capfd.readouterr()
    with pytest.raises(Exception, match="The model must be a name"):
        client.predict("hello", 5, api_name="/predict")
    with pytest.raises(Exception, match=r"Unknown corpus '\\x00'"):
        client.predict("The capital is [MASK].", corpus="\x00", api_name="/evidence")
    with pytest.raises(Exception, match="k is a number of 300 digits; this server allows at most"):
        client.predict("hello", "default", "9" * 300, api_name="/predict")
    with pytest.raises(Exception, match="max_new_tokens must be from 1 to 50"):
        client.predict("hello", max_new_tokens=51, api_name="/generate")
    with pytest.raises(Exception, match="check must be a whole number from 0 to 50"):
        client.predict("hello", check=51, api_name="/layers")
    assert "Traceback" not in capfd.readouterr().err  # a user's mistake: no trace on the server
