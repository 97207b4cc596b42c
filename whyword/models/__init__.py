"""Models: loading (Hub id, folder, embedded default), devices, the one model-call layer,
text encoding for a model, the memory budget and the hosted limits."""
