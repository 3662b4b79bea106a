"""Uploaded images: checking and re-encoding (``images``), and keeping the files (``files``)."""
