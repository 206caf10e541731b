"""The criteria of a site-selection search: one pydantic model for the JSON body and the URL.

Every criterion is optional; the ones given are ANDed. Units are in the names: areas in hectares
(the unit of the CNIG ``terr_surf_brute``), diameters in millimetres (nominal DN), the water
distance in metres (the plots' ``eau_distance_m``), road distances in kilometres (the CNIG
``autoroute_echang_dist`` and ``gare_dist`` of the plot's site), slopes in percent.

The same names are the JSON members of ``POST /site-selection`` and the query parameters of
``GET /site-selection`` (lists as repeated parameters: vocation values contain commas), so
:func:`criteria_params` turns any search into its shareable URL. Wrong input is refused with
the parameter's name and what was wrong; a name the model does not have — or a criterion the
caller's tier may not use — is refused with the words of an unknown field
(``atlas.stores.base.unknown_fields``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from atlas.errors import InvalidInput
from atlas.layers.cnig import SITE_VOCADOMI, TERR_USAGE
from atlas.layers.cnig_read import fold
from atlas.layers.flood_hazard import CLASS_LABELS
from atlas.layers.water_indicators import SEARCH_RADIUS_M
from atlas.query.fields import unknown_fields

MAX_LIMIT = 1_000
WATER_CRITERIA = ("water_min_dn", "water_max_distance_m")
_CLASSES = ", ".join(f"{k} {v}" for k, v in CLASS_LABELS.items())
# List items documented as the closed sets they are (matched without case or accents).
Vocation = Annotated[str, WithJsonSchema({"type": "string", "enum": list(SITE_VOCADOMI)})]
Usage = Annotated[str, WithJsonSchema({"type": "string", "enum": list(TERR_USAGE)})]
HazardClass = Annotated[int, WithJsonSchema({"type": "integer", "enum": list(CLASS_LABELS)})]


class SiteCriteria(BaseModel):
    """What a site-selection search asks of a plot (every criterion optional, all ANDed)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    min_area_ha: Annotated[
        float | None,
        Field(ge=0, le=100_000, description="smallest gross area (terr_surf_brute), ha"),
    ] = None
    max_area_ha: Annotated[
        float | None,
        Field(gt=0, le=100_000, description="largest gross area (terr_surf_brute), ha"),
    ] = None
    vocations: Annotated[
        list[Vocation] | None,
        Field(
            min_length=1,
            description="the plot's site has one of these vocations, dominant (site_vocadomi) "
            "or present (site_voca_*); repeat the parameter for several",
        ),
    ] = None
    usages: Annotated[
        list[Usage] | None,
        Field(
            min_length=1,
            description="the plot's use (terr_usage) is one of these; repeat for several",
        ),
    ] = None
    on_market: Annotated[
        bool | None,
        Field(description="true: on the market (terr_stade_comm 'en vente…'); false: not"),
    ] = None
    water_min_dn: Annotated[
        int | None,
        Field(
            ge=1,
            le=3_000,
            description="nearest drinking-water main in service of at least this nominal "
            "diameter, mm (partners: judged on the diameter class, lower edges 100, 200, 300)",
        ),
    ] = None
    water_max_distance_m: Annotated[
        float | None,
        Field(
            ge=0,
            le=SEARCH_RADIUS_M,
            description="nearest main in service within this distance, m (partners: judged on "
            "the distance band, upper edges 50, 150, 500)",
        ),
    ] = None
    outside_heritage: Annotated[
        bool,
        Field(description="true: the plot overlaps no heritage perimeter (abords, PDA)"),
    ] = False
    exclude_flood_classes: Annotated[
        list[HazardClass] | None,
        Field(
            min_length=1,
            description=f"the plot overlaps no hazard zone of these classes ({_CLASSES}); "
            "repeat for several",
        ),
    ] = None
    max_slope_pct: Annotated[
        float | None,
        Field(ge=0, le=100, description="largest mean slope over the plot, percent (100 % = 45°)"),
    ] = None
    max_motorway_km: Annotated[
        float | None,
        Field(ge=0, le=1_000, description="the site's motorway interchange within this, km"),
    ] = None
    max_station_km: Annotated[
        float | None,
        Field(ge=0, le=1_000, description="the site's passenger station within this, km"),
    ] = None
    only_passing: Annotated[
        bool, Field(description="true: return only the plots meeting every criterion")
    ] = False
    limit: Annotated[
        int, Field(ge=1, le=MAX_LIMIT, description="how many ranked plots to return")
    ] = 100

    @field_validator("vocations", mode="before")
    @classmethod
    def _vocations(cls, value: Any) -> Any:
        return _codes(value, SITE_VOCADOMI, "vocation")

    @field_validator("usages", mode="before")
    @classmethod
    def _usages(cls, value: Any) -> Any:
        return _codes(value, TERR_USAGE, "usage")

    @field_validator("exclude_flood_classes", mode="after")
    @classmethod
    def _classes(cls, value: list[int] | None) -> list[int] | None:
        if value is None:
            return None
        for item in value:
            if item not in CLASS_LABELS:
                raise PydanticCustomError(
                    "unknown_class",
                    "unknown hazard class {value}; the classes are {classes}",
                    {"value": item, "classes": _CLASSES},
                )
        return sorted(set(value))

    @model_validator(mode="after")
    def _area_range(self) -> SiteCriteria:
        low, high = self.min_area_ha, self.max_area_ha
        if low is not None and high is not None and low > high:
            raise PydanticCustomError(
                "area_range",
                "min_area_ha ({low}) is larger than max_area_ha ({high})",
                {"low": low, "high": high},
            )
        return self

    @property
    def water(self) -> bool:
        """Whether the search has a water criterion."""
        return self.water_min_dn is not None or self.water_max_distance_m is not None


def _codes(value: Any, allowed: tuple[str, ...], what: str) -> Any:
    """Code-list values in their published spelling (matched without case or accents), unique."""
    if value is None or not isinstance(value, list):
        return value  # pydantic says what is wrong with a non-list
    by_key = {fold(code): code for code in allowed}
    out: list[str] = []
    for item in value:
        code = by_key.get(fold(item)) if isinstance(item, str) else None
        if code is None:
            raise PydanticCustomError(
                f"unknown_{what}",
                "unknown {what} {value}; one of: {allowed}",
                {"what": what, "value": repr(str(item)[:40]), "allowed": "; ".join(allowed)},
            )
        if code not in out:
            out.append(code)
    return out


def parse_criteria(raw: Any, *, unavailable: Iterable[str] = ()) -> SiteCriteria:
    """Criteria from a JSON object or the query parameters; InvalidInput says what was wrong.

    ``unavailable`` names criteria the caller's tier may not use: they are refused exactly like
    names the model does not have.
    """
    if not isinstance(raw, Mapping):
        raise InvalidInput("the criteria must be a JSON object")
    hidden = set(unavailable)
    unknown = [str(k) for k in raw if k not in SiteCriteria.model_fields or k in hidden]
    if unknown:
        raise unknown_fields(unknown)
    # One value where a list is expected is a list of one (as a single query parameter is).
    values = {k: [v] if k in _LISTS and isinstance(v, str | int) else v for k, v in raw.items()}
    try:
        return SiteCriteria.model_validate(values)
    except ValidationError as exc:
        raise InvalidInput(_message(exc)) from None


def _message(exc: ValidationError) -> str:
    """The first error, named by its parameter, with the value given when that helps."""
    first = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in first["loc"])
    text = f"{where}: {first['msg']}" if where else first["msg"]
    given = first.get("input")
    if first["type"] in _OWN_WORDS or given is None or isinstance(given, dict | list):
        return text  # our own messages already quote the value
    return f"{text} (got {str(given)[:40]!r})"


_OWN_WORDS = frozenset({"unknown_class", "unknown_vocation", "unknown_usage", "area_range"})


_LISTS = frozenset(
    name
    for name, field in SiteCriteria.model_fields.items()
    if "list" in str(field.annotation)  # list[str] | None, list[int] | None
)


def query_criteria(items: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The raw criteria of GET query parameters: list criteria repeated, others given once."""
    raw: dict[str, Any] = {}
    for name, value in items:
        if name in _LISTS:
            raw.setdefault(name, []).append(value)
        elif name in raw:
            raise InvalidInput(f"{name[:40]}: given more than once")
        else:
            raw[name] = value
    return raw


def criteria_params(criteria: SiteCriteria) -> list[tuple[str, str]]:
    """The query parameters of the GET URL equivalent to ``criteria`` (defaults left out)."""
    out: list[tuple[str, str]] = []
    for name, value in criteria.model_dump(exclude_defaults=True).items():
        for item in value if isinstance(value, list) else [value]:
            out.append((name, _param(item)))
    return out


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
