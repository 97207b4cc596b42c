"""The one engine: objectives and F, the Problem of prepared jobs, predictions, the rows a
request explains, faithfulness, the result cache, and `run.run_matrices`."""
