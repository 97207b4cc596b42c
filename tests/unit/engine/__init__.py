"""Tests of whyword.engine: batching, the one-pass route, forward reuse, faithfulness, the result cache, IG's stages."""
