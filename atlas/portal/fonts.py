"""Fonts for the images the portal draws (static maps, share cards), with a fallback that always works.

Debian's fonts-dejavu-core (``/usr/share/fonts/truetype/dejavu``, installed by the CI and the
README's fresh-machine notes) covers every character a French sheet holds (é, ç, œ, €, the narrow
no-break space of French numbers). Without it, Pillow's own embedded font at the asked size
(Pillow >= 10.1 with FreeType, which its wheels carry), and as a last resort its fixed bitmap
font: an image is never refused for want of a font.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PIL import ImageFont

DEJAVU = Path("/usr/share/fonts/truetype/dejavu")
FILES = {False: "DejaVuSans.ttf", True: "DejaVuSans-Bold.ttf"}

Font = ImageFont.FreeTypeFont | ImageFont.ImageFont


@cache
def font(size: int, *, bold: bool = False, directory: Path = DEJAVU) -> Font:
    """A sans-serif font of ``size`` pixels: DejaVu when installed, else Pillow's own."""
    path = directory / FILES[bold]
    if path.is_file():
        try:
            return ImageFont.truetype(str(path), size)
        except OSError:
            pass  # an unreadable or truncated file: the fallback below
    try:
        return ImageFont.load_default(size=size)
    except (ImportError, OSError):
        return ImageFont.load_default()  # no FreeType in this Pillow: a small bitmap font
