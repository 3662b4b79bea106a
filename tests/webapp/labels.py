"""Reading an app page's forms as assistive technology would: which fields have no label."""

from __future__ import annotations

from html.parser import HTMLParser

FIELDS = {"input", "textarea", "select"}
UNLABELLED_TYPES = {"hidden", "submit", "button", "reset", "image"}


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[dict[str, str]] = []
        self.label_for: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "label" and values.get("for"):
            self.label_for.add(values["for"])
        if tag in FIELDS:
            self.fields.append({"tag": tag, **values})


def unlabelled(html: str) -> list[str]:
    """The names of the named fields (but the CSRF token and hidden ones) with no
    ``<label for>`` pointing at them."""
    forms = _Forms()
    forms.feed(html)
    missing = []
    for found in forms.fields:
        name = found.get("name", "")
        if not name or name == "csrf" or found.get("type", "") in UNLABELLED_TYPES:
            continue
        if not found.get("id") or found["id"] not in forms.label_for:
            missing.append(name)
    return missing


def named_fields(html: str) -> list[str]:
    """The names of every visible named field, to check a page has the fields it should."""
    forms = _Forms()
    forms.feed(html)
    return [
        f["name"]
        for f in forms.fields
        if f.get("name") and f.get("type", "") not in UNLABELLED_TYPES and f["name"] != "csrf"
    ]
