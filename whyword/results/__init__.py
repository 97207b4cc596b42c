"""Typed, frozen, torch-free results (the attribution matrix, the explanation), each method's
parameters, and the method registry with the methods' traits: what render and the UI read."""
