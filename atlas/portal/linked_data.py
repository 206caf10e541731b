"""What a sheet says to other machines: a one-line summary for share cards, and schema.org JSON-LD.

A site is a ``Place``; a plot's page is a ``RealEstateListing`` whose offer's ``itemOffered`` is
the plot as a ``Place`` (schema.org: a listing is the page, the offer is what it lists). The price
is read again through the caller's gate, as a number: present only when the tier sees it.
"""

from __future__ import annotations

from typing import Any

from atlas.policy.gate import Gate
from atlas.portal.reading import one, present
from atlas.portal.sheet import Role, Sheet

SUMMARY_FIGURES = 3
PLOTS = "activity-plots"
M2_PER_HA = 10_000
# UN/CEFACT Common Code of the square metre (schema.org unitCode).
SQUARE_METRE = "MTK"


def summary(sheet: Sheet) -> str:
    """The sheet in one line: where, then its first key figures (OpenGraph description)."""
    figures = next((s.figures for s in sheet.sections if s.key == "figures"), ())
    parts = [f"{f.label} : {f.value}" if sheet.lang == "fr" else f"{f.label}: {f.value}"
             for f in figures[:SUMMARY_FIGURES]]  # fmt: skip
    head = sheet.subtitle
    return " — ".join(p for p in (head, " · ".join(parts)) if p)


def _place(sheet: Sheet, url: str) -> dict[str, Any]:
    place: dict[str, Any] = {"@type": "Place", "name": sheet.title, "url": url}
    subject = next((s.geometry for s in sheet.shapes if s.role is Role.SUBJECT), None)
    if subject is not None and not subject.is_empty:
        point = subject.representative_point()
        place["geo"] = {
            "@type": "GeoCoordinates",
            "latitude": round(point.y, 6),
            "longitude": round(point.x, 6),
        }
    locality = sheet.subtitle.split(", ")[-1] if sheet.subtitle else ""
    if locality:
        place["address"] = {
            "@type": "PostalAddress",
            "addressLocality": locality,
            "addressCountry": "FR",
        }
    return place


def site_place(sheet: Sheet, url: str) -> dict[str, Any]:
    """A site's JSON-LD: a schema.org Place with its position and municipality."""
    return {
        "@context": "https://schema.org",
        **_place(sheet, url),
        "description": summary(sheet),
    }


def plot_listing(gate: Gate, sheet: Sheet, url: str) -> dict[str, Any]:
    """A plot's JSON-LD: a RealEstateListing offering the plot (a Place), priced where the
    caller's tier sees the price."""
    offer: dict[str, Any] = {"@type": "Offer", "itemOffered": _place(sheet, url)}
    plot = one(gate, PLOTS, sheet.id, ("terr_m2_prix", "terr_surf_brute"))
    price: Any = plot.properties.get("terr_m2_prix")
    area: Any = plot.properties.get("terr_surf_brute")
    if present(price):
        offer["priceCurrency"] = "EUR"
        offer["priceSpecification"] = {
            "@type": "UnitPriceSpecification",
            "price": float(price),
            "priceCurrency": "EUR",
            "unitCode": SQUARE_METRE,
        }
        if present(area):
            offer["price"] = round(float(price) * float(area) * M2_PER_HA)
    listing: dict[str, Any] = {
        "@context": "https://schema.org",
        "@type": "RealEstateListing",
        "name": sheet.title,
        "url": url,
        "description": summary(sheet),
        "inLanguage": sheet.lang,
        "offers": offer,
    }
    if sheet.verified_on is not None:
        listing["dateModified"] = sheet.verified_on.isoformat()
    return listing
