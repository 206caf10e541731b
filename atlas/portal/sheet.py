"""A sheet — what one site or one plot page says — as plain data every renderer reads.

The portal builds a :class:`Sheet` from the caller's gate only (``atlas.portal`` never reads a
store), already translated and formatted; the HTML page, the PDF and the share card render that
one object, so none of them can show a field the others (and the gate) did not let through.
"""

from __future__ import annotations

import datetime as dt
import enum
from dataclasses import dataclass, field
from typing import Literal

from shapely.geometry.base import BaseGeometry


class Role(enum.StrEnum):
    """What a shape is on a sheet's map; renderers style by role, never by collection name."""

    SUBJECT = "subject"  # the site or plot the sheet is about
    SITE = "site"  # the activity site holding a plot
    PLOT = "plot"  # other plots of the site
    HERITAGE = "heritage"  # a protected monument or its perimeter
    FLOOD = "flood"  # a flood-hazard zone
    SERVICE = "service"  # a public service nearby
    COMMUNE = "commune"  # a commune boundary (background)


@dataclass(frozen=True)
class Figure:
    """One labelled value, ready to print: ``label`` and ``value`` are in the sheet's language."""

    label: str
    value: str
    key: str = ""  # the national standard's field name it comes from, for tests and JSON-LD
    href: str = ""  # a page the value links to, from the API root (a site sheet's plots)


@dataclass(frozen=True)
class Section:
    """A titled group of figures (key figures, servicing, constraints, nearby services…)."""

    title: str
    figures: tuple[Figure, ...]
    key: str = ""  # stable English id of the section ("figures", "water", "constraints", …)


@dataclass(frozen=True)
class Shape:
    """A geometry to draw on the sheet's map, in CRS84 (lon, lat)."""

    geometry: BaseGeometry
    role: Role
    label: str = ""


@dataclass(frozen=True)
class Contact:
    """The named person an investor writes to (the agglomeration's economic-development office)."""

    name: str
    role: str
    email: str
    phone: str = ""


@dataclass(frozen=True)
class Sheet:
    """A site's or a plot's sheet in one language, as seen through one tier's gate."""

    kind: Literal["site", "plot"]
    id: str
    lang: str  # "fr" | "en"
    title: str
    subtitle: str  # e.g. commune, the site of a plot
    sections: tuple[Section, ...]
    contact: Contact
    verified_on: dt.date | None  # the CNIG *_actu_date: when the facts were last checked
    shapes: tuple[Shape, ...] = field(default_factory=tuple)
    path: str = ""  # the sheet's URL path from the API root, e.g. "/sites/91-ZAE-001"

    def figure(self, key: str) -> Figure | None:
        """The figure of a national field name, if the sheet shows it."""
        return next((f for s in self.sections for f in s.figures if f.key == key), None)
