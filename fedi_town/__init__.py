"""fedi-town: each local business an ActivityPub actor of its own."""

__version__ = "0.1.0"
