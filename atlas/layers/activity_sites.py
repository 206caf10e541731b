"""Activity sites: the CNIG Sites économiques class SITE-ECO, and the vacancy rate of a ZAE.

Art. L.318-8-2 of the code de l'urbanisme (loi Climat et résilience, art. 220) makes the EPCI
inventory its zones d'activité économique, with for each zone its vacancy rate: the number of
land units (unités foncières) no longer assigned to an activity liable to the cotisation
foncière des entreprises (CGI art. 1447) for at least two years on 1 January of the tax year,
and left unoccupied over that period, over the total number of land units of the zone. CNIG
stores it in ``site_taux_vacance`` (integer in the CNIG SQL model; the example declares 13 for 2
vacant units out of 15, i.e. a percentage), next to ``site_uf_nbre`` and ``site_uf_vacant_nbre``.
:func:`vacancy_rate` recomputes it from the plots (TERRAIN-ECO, one plot = one land unit) and
:func:`compare_vacancy` lists the sites whose declared rate disagrees.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from atlas.layers.base import ReadOptions, ReadResult, VectorLayer
from atlas.layers.cnig import SITE_ECO, STANDARD, field_specs
from atlas.layers.cnig_read import fold, read_cnig
from atlas.layers.water_indicators import INDICATOR_FIELDS

# The CNIG fields, then the water-servicing indicators derived at ingest (water_indicators).
FIELDS = (*field_specs(SITE_ECO), *INDICATOR_FIELDS)

# Which terr_etat_occup values are vacancy in the sense of L.318-8-2 (the standard defines the
# values by their names only; the 2023 data model has no definitions):
# - 'vacant': the standard's word for the article's units (site_uf_vacant_nbre counts them);
# - 'friche': a brownfield is land left unused (art. L.111-26 CU) after an activity: no longer
#   assigned to one and unoccupied, as the article requires;
# - not 'inoccupé': a plot never occupied (a new plot on sale) was never "assigned" to an
#   activity, so it cannot be "no longer assigned"; it is commercial supply, not vacancy;
# - not 'occupation transitoire': the article wants units left unoccupied; a temporary use
#   occupies them;
# - 'inconnu', 'autre', 'sans objet' or empty: not counted as vacant (counted separately).
VACANT_STATES = frozenset({"vacant", "friche"})
UNKNOWN_STATES = frozenset({"inconnu", "autre", "sans objet", ""})


def read_activity_sites(path: Path, options: ReadOptions) -> ReadResult:
    """Read CNIG SITE-ECO rows (CSV ``;`` with GeoJSON text, GeoJSON, GeoPackage)."""
    return read_cnig(path, options, SITE_ECO)


def vacancy_rate(plots_frame: pd.DataFrame) -> pd.DataFrame:
    """Per site_id: land units, vacant units, units of unknown state, vacancy rate in percent.

    The denominator is the site's plots except those with ``terr_utile = 'non'``: the standard
    uses terr_utile to leave roads, basins and green spaces out of the area meant for business,
    and those are not land units that an activity could occupy. An empty terr_utile counts (the
    field is optional). The rate is unrounded; CNIG declares whole percents.
    """
    columns = ["site_id", "site_uf_nbre", "site_uf_vacant_nbre", "uf_unknown_nbre"]
    if plots_frame.empty:
        return pd.DataFrame(columns=[*columns, "site_taux_vacance"])
    utile = _folded(plots_frame, "terr_utile") != "non"
    state = _folded(plots_frame, "terr_etat_occup")[utile]
    plots = pd.DataFrame(
        {
            "site_id": plots_frame.loc[utile, "site_id"],
            "vacant": state.isin(VACANT_STATES),
            "unknown": state.isin(UNKNOWN_STATES),
        }
    )
    grouped = plots.groupby("site_id", sort=True)
    out = pd.DataFrame(
        {
            "site_uf_nbre": grouped.size(),
            "site_uf_vacant_nbre": grouped["vacant"].sum(),
            "uf_unknown_nbre": grouped["unknown"].sum(),
        }
    ).reset_index()
    out["site_taux_vacance"] = 100.0 * out["site_uf_vacant_nbre"] / out["site_uf_nbre"]
    return out


def _folded(frame: pd.DataFrame, column: str) -> pd.Series:
    if column not in frame:
        return pd.Series([""] * len(frame), index=frame.index, dtype=object)
    values = frame[column].astype(object).where(frame[column].notna(), "")
    return values.map(lambda v: fold(str(v)))


def compare_vacancy(
    sites: pd.DataFrame, plots: pd.DataFrame, tolerance: float = 1.0
) -> pd.DataFrame:
    """Sites whose declared site_taux_vacance differs from the plots' by more than ``tolerance``.

    ``tolerance`` is in percentage points; the default absorbs CNIG's whole-percent rounding.
    Sites without a declared rate or without counted plots are not compared.
    """
    declared = pd.to_numeric(
        sites["site_taux_vacance"].astype("string").str.replace(",", ".", regex=False),
        errors="coerce",
    )
    left = pd.DataFrame({"site_id": sites["site_id"].astype(object), "declared": declared})
    computed = vacancy_rate(plots)[["site_id", "site_taux_vacance"]].rename(
        columns={"site_taux_vacance": "computed"}
    )
    both = left.merge(computed, on="site_id", how="inner").dropna(subset=["declared", "computed"])
    differ = (both["declared"] - both["computed"]).abs() > tolerance
    return both.loc[differ, ["site_id", "declared", "computed"]].reset_index(drop=True)


LAYER = VectorLayer(
    collection_id="activity-sites",
    title="Activity sites",
    description="Zones d'activité économique and other economic sites (CNIG SITE-ECO).",
    geometry_type="MultiPolygon",
    id_field="site_id",
    fields=FIELDS,
    reader=read_activity_sites,
    standard=STANDARD + ", class SITE-ECO",
)
