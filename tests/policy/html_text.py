"""What an HTML page tells its reader, in the shapes the leak matrix searches.

A value in a table cell has no quotes around it, and the JSON a page embeds for its map has its
``<``, ``>``, ``&`` and ``'`` escaped: searching the raw HTML for ``"value"`` would miss both.
So the page is parsed: every text node and attribute value becomes one JSON string (a whole
cell matches ``"value"``, a quoted word in a message matches ``'value'``, exactly as in a JSON
body), and every embedded JSON document is parsed and dumped again.
"""

from __future__ import annotations

import json
from html.parser import HTMLParser
from typing import Any


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.texts: list[str] = []
        self.headers: list[str] = []
        self.attributes: list[str] = []
        self.documents: list[Any] = []
        self._open: list[str] = []
        self._script: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = [value for _, value in attrs if value]
        self.texts.extend(values)
        self.attributes.extend(values)
        # Map data, and the schema.org JSON-LD of the portal's sheets: documents, parsed.
        if tag == "script" and dict(attrs).get("type") in (
            "application/json",
            "application/ld+json",
        ):
            self._script = ""
        self._open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "script" and self._script is not None:
            self.documents.append(json.loads(self._script))
            self._script = None
        if tag in self._open:
            del self._open[len(self._open) - 1 - self._open[::-1].index(tag) :]

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            self._script += data
            return
        text = data.strip()
        if text:
            self.texts.append(text)
            if "th" in self._open:
                self.headers.append(text)


def _parse(body: str) -> _Page:
    page = _Page()
    page.feed(body)
    page.close()
    return page


def searchable(body: str) -> str:
    """The page as lines of JSON: each text node and attribute, then each embedded document."""
    page = _parse(body)
    lines = [json.dumps(text, ensure_ascii=False) for text in page.texts]
    lines += [json.dumps(document, ensure_ascii=False) for document in page.documents]
    return "\n".join(lines)


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value).union(*(_keys(v) for v in value.values()))
    if isinstance(value, list):
        return set().union(*(_keys(v) for v in value))
    return set()


def field_names(body: str) -> set[str]:
    """Names a page shows as fields: table headers and the keys of its embedded documents."""
    page = _parse(body)
    return set(page.headers).union(*(_keys(d) for d in page.documents))


def attributes(body: str) -> list[str]:
    """Every attribute value of the page (hrefs, srcs…)."""
    return _parse(body).attributes


def documents(body: str) -> list[Any]:
    """The JSON documents the page embeds (the map's GeoJSON)."""
    return _parse(body).documents
