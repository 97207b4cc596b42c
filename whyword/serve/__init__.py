"""The attribution backend as a Ray Serve deployment (only this package imports ray).

`work.py` answers a batch of JSON requests with the core's batching (no ray); `deployment.py`
wraps it in a Ray Serve deployment with `@serve.batch`; `client.py` is what the page calls when
`WHYWORD_BACKEND` names the deployment's address; `command.py` is `whyword serve`.
"""
