"""`whyword app` (alias `ui`): serve the web page until Ctrl-C."""

from __future__ import annotations


def add_command(sub) -> None:
    a = sub.add_parser(
        "app",
        aliases=["ui"],
        help='serve the web page (needs pip install "whyword[app]")',
        description="Serve the WhyWord page; Ctrl-C stops it.",
    )
    a.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    a.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    a.add_argument("--share", action="store_true", help="also open a public gradio.live link")
    a.add_argument(
        "--model", default=None, help="model the page starts with: a Hub id or local folder"
    )
    a.set_defaults(run=run)


def run(args) -> None:
    """Serve the page; `--model` is the model it starts with (and offers first)."""
    if args.model:
        from whyword.models.limits import model_choices
        from whyword.runtime import settings

        settings.MODELS.put(tuple(dict.fromkeys([args.model, *model_choices()])))
    from whyword.ui import build_demo

    demo = build_demo()
    demo.launch(server_name=args.host, server_port=args.port, share=args.share)
