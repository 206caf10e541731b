"""Query results as GeoDataFrames with the same columns and dtypes whichever store answered."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from atlas.layers.base import FieldSpec, VectorLayer
from atlas.query.features import FeatureQuery
from atlas.query.values import as_date, is_missing
from atlas.stores.base import selected_names
from atlas.stores.sql import quote
from atlas.stores.where import Where, order_by
from atlas.types import STORAGE_CRS

WKB_COLUMN = "geom_wkb__"  # the alias of the geometry column in a frame query (no field has it)


def _strings(values: pd.Series) -> pd.Series:
    # pandas' own inference for a list of str/None, as the layer readers get it: the "str"
    # dtype in pandas 3, objects with None before (``astype(str)`` would write "None").
    return pd.Series([None if is_missing(v) else v for v in values], index=values.index)


def _integers(values: pd.Series) -> pd.Series:
    return values.astype("Int64")  # from Python ints: exact beyond 2**53


def _numbers(values: pd.Series) -> pd.Series:
    return pd.to_numeric(values).astype("float64")


def _booleans(values: pd.Series) -> pd.Series:
    return values.astype("boolean")


def _dates(values: pd.Series) -> pd.Series:
    # ``datetime.date`` objects, as the layer readers produce them (no nanosecond range limit).
    return pd.Series([as_date(v) for v in values], index=values.index, dtype=object)


def _datetimes(values: pd.Series) -> pd.Series:
    return pd.to_datetime(values, utc=True)


_DTYPES: dict[str, Callable[[pd.Series], pd.Series]] = {
    "string": _strings,
    "integer": _integers,
    "number": _numbers,
    "boolean": _booleans,
    "date": _dates,
    "datetime": _datetimes,
}


def frame_select(
    relation: str, layer: VectorLayer, query: FeatureQuery, where: Where, *, wkb: str
) -> tuple[list[str], str]:
    """The field names and the one SELECT of a frame: fields then WKB, ordered like a query.

    ``wkb`` is the store's WKB function (``ST_AsWKB`` in DuckDB, ``ST_AsBinary`` in PostGIS).
    """
    names = list(dict.fromkeys(selected_names(layer, query)))
    select = ", ".join([*(quote(n) for n in names), f"{wkb}(geom) AS {WKB_COLUMN}"])
    order = order_by(query.sortby)
    return names, f"SELECT {select} FROM {relation} WHERE {where.sql} ORDER BY {order}"  # noqa: S608


def features_frame(
    specs: Mapping[str, FieldSpec],
    names: Sequence[str],
    columns: Mapping[str, Sequence[Any] | np.ndarray],
) -> gpd.GeoDataFrame:
    """A GeoDataFrame in EPSG:2154: ``names`` typed after their field, then ``geometry``.

    ``columns`` holds the fetched values by name (None for NULL) and the WKB under
    ``WKB_COLUMN``.
    """
    blobs = [None if is_missing(b) else bytes(b) for b in columns[WKB_COLUMN]]
    index = pd.RangeIndex(len(blobs))
    data = {
        name: _DTYPES[specs[name].type](pd.Series(columns[name], index=index, dtype=object))
        for name in names
    }
    return gpd.GeoDataFrame(
        pd.DataFrame(data, index=index, columns=list(names)),
        geometry=gpd.GeoSeries(shapely.from_wkb(blobs), index=index, crs=STORAGE_CRS),
        crs=STORAGE_CRS,
    )


def unmasked(values: np.ma.MaskedArray) -> np.ndarray:
    """A column from DuckDB's ``fetchnumpy`` as Python objects, None where it was NULL."""
    out = np.ma.getdata(values).astype(object)
    out[np.ma.getmaskarray(values)] = None
    return out
