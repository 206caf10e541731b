"""The Etalab *découpage administratif* tables: today's communes, their former codes, their EPCI.

``@etalab/decoupage-administratif`` publishes the INSEE Code officiel géographique (COG) as JSON
arrays without geometry: ``communes.json`` (one object per commune, with ``code``, ``nom``,
``type``, ``departement``, ``region``, ``siren``, ``population`` and ``anciensCodes``, the codes
the commune had before a merger; delegated and associated communes carry ``chefLieu``, municipal
arrondissements ``commune``) and ``epci.json`` (one object per EPCI à fiscalité propre, DGCL list,
with its ``membres``). Boundary files lag behind the COG (the france-geojson communes are the 2018
geography; Évry and Courcouronnes merged on 1 January 2019), so the communes reader uses these
tables, when given beside the boundaries, to name each polygon's commune as of the COG's year.

A table is told from a GeoJSON by its content (a JSON array), never by its name.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from atlas.errors import InvalidInput
from atlas.layers.io import read_text_file

CURRENT = "commune-actuelle"
# Entries that are parts of a current commune: the key holding that commune's code.
_PART_OF = {
    "commune-deleguee": "chefLieu",
    "commune-associee": "chefLieu",
    "arrondissement-municipal": "commune",
}


@dataclass(frozen=True, slots=True)
class CogCommune:
    """A current commune as the COG describes it."""

    code: str
    nom: str
    departement: str | None = None
    region: str | None = None
    siren: str | None = None
    population: int | None = None


@dataclass(slots=True)
class Cog:
    """Current communes by code, where former codes went, and each commune's EPCI SIREN."""

    communes: dict[str, CogCommune] = field(default_factory=dict)
    successor: dict[str, str] = field(default_factory=dict)  # former or part code -> current
    epci: dict[str, str] = field(default_factory=dict)  # commune code -> EPCI SIREN
    sources: list[str] = field(default_factory=list)

    def current(self, code: str) -> str:
        """The code of the current commune that ``code`` is or became (itself when unknown)."""
        if code in self.communes:
            return code
        return self.successor.get(code, code)


def is_table(path: Path) -> bool:
    """True for a ``.json`` file holding a JSON array (a COG table, not a GeoJSON object)."""
    if path.suffix.lower() != ".json":
        return False
    with open(path, "rb") as fh:
        head = fh.read(4096).lstrip(b"\xef\xbb\xbf \t\r\n")
    return head.startswith(b"[")


def read_cog(paths: list[Path]) -> Cog:
    """The COG tables among ``paths`` (communes and EPCI arrays; others ignored), merged."""
    cog = Cog()
    for path in sorted(paths):
        entries = _entries(path)
        used = False
        for entry in entries:
            used |= _add_commune(cog, entry) or _add_epci(cog, entry)
        if used:
            cog.sources.append(path.name)
    return cog


def _entries(path: Path) -> list[dict[str, object]]:
    try:
        document = json.loads(read_text_file(path).getvalue())
    except (ValueError, RecursionError) as exc:
        raise InvalidInput(f"'{path.name}' is not readable JSON") from exc
    if not isinstance(document, list):
        raise InvalidInput(f"'{path.name}' is not a découpage administratif table (a JSON array)")
    return [e for e in document if isinstance(e, dict) and isinstance(e.get("code"), str)]


def _add_commune(cog: Cog, entry: dict[str, object]) -> bool:
    kind, code = entry.get("type"), str(entry["code"])
    if kind == CURRENT:
        cog.communes[code] = CogCommune(
            code=code,
            nom=str(entry.get("nom") or code),
            departement=_text(entry.get("departement")),
            region=_text(entry.get("region")),
            siren=_text(entry.get("siren")),
            population=_integer(entry.get("population")),
        )
        for former in entry.get("anciensCodes") or []:  # type: ignore[attr-defined]
            # The first current commune naming a former code keeps it (a split is rare and
            # the COG lists the part that kept the territory first).
            cog.successor.setdefault(str(former), code)
        return True
    parent = _PART_OF.get(str(kind))
    if parent is not None and isinstance(entry.get(parent), str):
        cog.successor.setdefault(code, str(entry[parent]))
        return True
    return False


def _add_epci(cog: Cog, entry: dict[str, object]) -> bool:
    members = entry.get("membres")
    if not isinstance(members, list):
        return False
    for member in members:
        if isinstance(member, dict) and isinstance(member.get("code"), str):
            cog.epci.setdefault(member["code"], str(entry["code"]))
    return True


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _integer(value: object) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return int(value)
