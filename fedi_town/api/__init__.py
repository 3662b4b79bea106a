"""The owner and admin HTTP API: the contract the owner web app and scripts use.

It sits above the three ways: it validates a request against ``schemas/`` and calls the
commands of ``outbound/`` and the queries of ``store/``; ``routes.py`` lists every route.
"""
