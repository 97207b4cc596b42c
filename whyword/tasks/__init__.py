"""Thin compositions on the engine: attribute, explain, positions, generate (and its steps),
step-through generation."""
