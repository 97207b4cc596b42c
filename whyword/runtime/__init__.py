"""How the process runs: settings (every WHYWORD_* variable), the one bounded cache type, cache
keys, the request's options, precision (fp32 / bf16 autocast) and the forward cache."""
