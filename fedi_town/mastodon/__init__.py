"""The Mastodon client API for a business: the app already on an owner's phone (Ivory, Tusky,
Elk, Phanpy, the official app) signs in with OAuth and posts as the business.

It sits beside ``api`` (the owner/admin API): it calls the same commands (``outbound/``) and
queries (``store/``), and answers in Mastodon's shapes and error bodies (``{"error": ...}``,
not problem+json). The consent page is part of the owner's web app (``webapp/authorize.py``).
docs/mastodon-api.md lists what is served.
"""
