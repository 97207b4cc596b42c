"""Bad and odd input, one table through the library and through the app's handlers.

Every case ends in a clear one-sentence message (a `WhyWordError`, never a stack trace or the
generic "something went wrong") or in a correct result; afterwards a normal request still works.
Results are also rendered (heatmap and the exported HTML page) and must show the text as text.

`cases.py` holds the table, `checks.py` what every answer must be; `test_library.py` runs the
cases through the library, `test_app.py` through the app's handlers and API endpoint. Run
`python -m tests.integration.bad_input` to print the table with the answer each case gets.
"""
