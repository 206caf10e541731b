"""Multi-layer site selection: criteria, their measure on every plot a caller sees, the ranking.

No FastAPI here: ``atlas.api.routers.selection`` parses the request and shapes the response.
"""

from atlas.selection.criteria import SiteCriteria, criteria_params, parse_criteria, query_criteria
from atlas.selection.evaluate import RankedPlot, Selection, select_sites, unavailable_criteria

__all__ = [
    "RankedPlot",
    "Selection",
    "SiteCriteria",
    "criteria_params",
    "parse_criteria",
    "query_criteria",
    "select_sites",
    "unavailable_criteria",
]
