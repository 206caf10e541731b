"""What a PDF tells its reader, in the shapes the leak matrix searches (as ``html_text`` for pages).

pypdf reads the text back line by line. A table cell's value on a line of its own becomes one JSON
string (a whole value matches ``"value"``, exactly as in a JSON body); and since a long value may
wrap over lines or share one with others, ``flat`` gives the whole text with every run of
whitespace made one space, to be searched for values as they are.
"""

from __future__ import annotations

import io
import json

import pypdf


def lines(data: bytes) -> list[str]:
    """Every non-empty line of every page, whitespace runs made one space."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return [" ".join(line.split()) for line in text.splitlines() if line.strip()]


def searchable(data: bytes) -> str:
    """The PDF as lines of JSON, one per line of text."""
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines(data))


def flat(data: bytes) -> str:
    """The whole text as one line, whitespace runs (a wrap, a no-break space) made one space."""
    return " ".join(" ".join(lines(data)).split())
