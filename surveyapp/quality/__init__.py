"""Quality control and response rates of field work, as pure functions.

No Flask, no SQLAlchemy, no database: plain counts, answers and durations in, rates and
flags out (like ``sampling/`` and ``analysis/``, but small and specific to field work).
The services ``surveyapp/services/response_rates.py`` and ``surveyapp/services/quality.py``
turn rows into these inputs and the results back into pages and exports.
"""
