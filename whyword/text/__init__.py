"""Text and tokens, model-free: token labels and specials, character offsets, segments."""
