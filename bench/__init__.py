"""Benchmarks: fedi-town against the limits of the machine it runs on, and under load.

Every script runs fedi-town in a subprocess under uvicorn on 127.0.0.1, drives it from
another process, and prints each figure beside a ceiling measured in the same run:

    read_path.py   actor, WebFinger, a note, the outbox page vs a bare route (1 and 2 workers)
    inbox.py       signed Like/Announce/Create accepted per second vs a verify-only route,
                   and the worker's drain of the burst vs the accept rate (``fedi-town serve``)
    fanout.py      one post to 1,000 loopback servers vs a sign+POST loop with no database
    facts.py       the machine facts the issue lists (RSA, PEM parse, HTTP clients, queries)
    memory.py      RSS/PSS of ``fedi-town serve`` idle, after reads and a fan-out: SQLite,
                   PostgreSQL, ``--workers 2`` (figures only)
    soak.py        50 loopback servers send, fetch and receive for minutes against
                   ``fedi-town serve`` while the owner posts; every request accounted for
    reliability.py the hostile-input and fault suites' records and the soak, as
                   docs/reliability.md's figures table (``make reliability``)
    run_all.py     all of them, then one table of figures and targets (``make bench``)

All traffic stays on 127.0.0.0/8; every loop is bounded in count and time.
"""
