"""Tests of whyword.tasks: predictions and targets, generation and its steps, positions, step-through."""
