"""Fonts for the images the portal draws (static maps, share cards), with a fallback that always works.

Debian's fonts-dejavu-core (``/usr/share/fonts/truetype/dejavu``, installed by the CI and named
in the README's fresh-machine notes) covers every character a French sheet holds (é, ç, œ, €,
the narrow no-break space of French numbers). Without it, Pillow's own embedded font at the asked
size (Pillow >= 10.1 with FreeType, which its wheels carry), which has ASCII glyphs only: text
is then folded to ASCII (``shown``: "Écopôle" -> "Ecopole", € -> EUR) rather than drawn as empty
boxes; and as a last resort Pillow's fixed bitmap font. An image is never refused for want of a
font.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from PIL import ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}
# What ASCII folding cannot take from a decomposition.
_ASCII = str.maketrans(
    {"€": "EUR", "œ": "oe", "Œ": "OE", "æ": "ae", "’": "'", "«": '"', "»": '"', "—": "-",
     "–": "-", "…": "...", "²": "2", "\u202f": " ", "\u00a0": " ", "·": "-"}
)  # fmt: skip

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int, *, bold: bool = False, directory: Path | None = None) -> Font:
    """A sans-serif font of ``size`` pixels: DejaVu when installed, else Pillow's own."""
    path = (directory or DEJAVU) / FILES[bold]
    if path.is_file():
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass  # an unreadable or truncated file: the fallback below
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        return ImageFont.load_default()  # no FreeType in this Pillow: a small bitmap font


def full(face: Font) -> bool:
    """Whether ``face`` is a font file of ours (every glyph), not one of Pillow's (ASCII)."""
    return isinstance(face, ImageFont.FreeTypeFont) and isinstance(face.path, str)


def shown(text: str, face: Font) -> str:
    """``text`` as ``face`` can draw it: whole with DejaVu, folded to ASCII with Pillow's own."""
    if full(face):
        return text
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in decomposed if c.isascii())
