"""The colours of the map tiles and their legends, defined once: tiles, legends and docs read these.

- Slope classes in percent (``100·tan(slope°)``, the grade the site-selection criterion uses):
  the bands French planning documents draw for buildability (under 2 % flat, 2–5 % gentle,
  5–10 % moderate, 10–15 % steep, 15 % and over very steep).
- Flood hazard: the layer's ordered ``classe_alea`` codes (0 nul … 4 très fort, from the
  COVADIS PPR standard's ``nivalea_st``) with the layer's French labels; blues deepening with the
  hazard, as PPRI maps draw the *aléa inondation*.
- Elevation: a hillshade (GDAL's default light, azimuth 315°, altitude 45°) and, optionally, a
  hypsometric tint (greens on valley floors to browns on the plateaux) shaded by it.
"""

from __future__ import annotations

from dataclasses import dataclass

from atlas.layers.flood_hazard import CLASS_LABELS

Rgb = tuple[int, int, int]


@dataclass(frozen=True, slots=True)
class RasterClass:
    """One class of a classified map: its code, value range [lower, upper), colour and labels."""

    code: int
    color: Rgb
    label_fr: str
    label_en: str
    lower: float | None = None
    upper: float | None = None  # exclusive; None: no upper bound

    def as_json(self) -> dict[str, object]:
        """The class as a legend entry."""
        entry: dict[str, object] = {
            "code": self.code,
            "color": hex_color(self.color),
            "label": {"fr": self.label_fr, "en": self.label_en},
        }
        if self.lower is not None or self.upper is not None:
            entry["min"], entry["max"] = self.lower, self.upper
        return entry


def hex_color(color: Rgb) -> str:
    """``#rrggbb``."""
    return "#{:02x}{:02x}{:02x}".format(*color)


SLOPE_UNIT = "%"
SLOPE_CLASSES: tuple[RasterClass, ...] = (
    RasterClass(0, (26, 150, 65), "plat (moins de 2 %)", "flat (under 2 %)", 0.0, 2.0),
    RasterClass(1, (166, 217, 106), "faible (2 à 5 %)", "gentle (2 to 5 %)", 2.0, 5.0),
    RasterClass(2, (255, 255, 191), "modérée (5 à 10 %)", "moderate (5 to 10 %)", 5.0, 10.0),
    RasterClass(3, (253, 174, 97), "forte (10 à 15 %)", "steep (10 to 15 %)", 10.0, 15.0),
    RasterClass(4, (215, 25, 28), "très forte (15 % et plus)", "very steep (15 % and over)", 15.0),
)

_FLOOD_EN = {0: "none", 1: "low", 2: "moderate", 3: "high", 4: "very high"}
_FLOOD_COLORS: dict[int, Rgb] = {
    0: (222, 235, 247),
    1: (158, 202, 225),
    2: (66, 146, 198),
    3: (8, 81, 156),
    4: (84, 39, 143),
}
FLOOD_CLASSES: tuple[RasterClass, ...] = tuple(
    RasterClass(code, _FLOOD_COLORS[code], f"aléa {label}", f"{_FLOOD_EN[code]} hazard")
    for code, label in sorted(CLASS_LABELS.items())
)

# Hillshade light (GDAL gdaldem's defaults) and the tint's stops (metres, colour).
HILLSHADE_AZIMUTH = 315.0
HILLSHADE_ALTITUDE = 45.0
HYPSOMETRIC_STOPS: tuple[tuple[float, Rgb], ...] = (
    (0.0, (94, 140, 97)),
    (50.0, (168, 198, 135)),
    (100.0, (232, 225, 168)),
    (200.0, (205, 170, 125)),
    (500.0, (160, 120, 90)),
    (1000.0, (245, 245, 245)),
)


def classes_for(collection_id: str) -> tuple[RasterClass, ...]:
    """The classes of a classified collection (slope, flood hazard); empty for the others."""
    return {"slope": SLOPE_CLASSES, "flood-hazard": FLOOD_CLASSES}.get(collection_id, ())
