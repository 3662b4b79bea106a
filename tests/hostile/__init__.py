"""Hostile-input suites: what a misbehaving peer or client may send, and what must hold."""
