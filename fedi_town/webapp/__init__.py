"""The owner's web app: server-rendered pages on top of the admin API (docs/owner-app.md)."""
