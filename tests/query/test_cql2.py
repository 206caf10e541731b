"""CQL2-text and CQL2-JSON into the filter tree: same trees from both encodings, CRS handling,
errors that say what is wrong without Python's or the parser's internals."""

from __future__ import annotations

import datetime as dt
import json

import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import Transformer

from atlas.errors import InvalidInput
from atlas.query.cql2 import MAX_FILTER_CHARS, parse_filter
from atlas.query.fields import check_fields
from atlas.query.filters import (
    And,
    Between,
    Comparison,
    In,
    IsNull,
    Like,
    Not,
    Or,
    SpatialPredicate,
)
from tests.stores.fixtures import CONTRACT_LAYER

FIELDS = {f.name: f for f in CONTRACT_LAYER.fields}
PROP = {"property": "terr_m2_prix"}
NAME = {"property": "terr_nom"}
TO_L93 = Transformer.from_crs("OGC:CRS84", "EPSG:2154", always_xy=True)


def text(source, **options):
    return parse_filter(source, "cql2-text", fields=FIELDS, **options)


def cjson(source, **options):
    return parse_filter(source, "cql2-json", fields=FIELDS, **options)


def l93(lon, lat):
    return TO_L93.transform(lon, lat)


PAIRS = [
    ("terr_m2_prix > 50", {"op": ">", "args": [PROP, 50]}),
    ("50 < terr_m2_prix", {"op": "<", "args": [50, PROP]}),
    ("terr_m2_prix <> 50.5", {"op": "<>", "args": [PROP, 50.5]}),
    ("nb_lots <= -2", {"op": "<=", "args": [{"property": "nb_lots"}, -2]}),
    ("terr_utile = FALSE", {"op": "=", "args": [{"property": "terr_utile"}, False]}),
    ("terr_m2_prix BETWEEN 40 AND 60", {"op": "between", "args": [PROP, 40, 60]}),
    (
        "terr_m2_prix NOT BETWEEN 40 AND 60",
        {"op": "not", "args": [{"op": "between", "args": [PROP, 40, 60]}]},
    ),
    ("terr_nom LIKE 'Les%'", {"op": "like", "args": [NAME, "Les%"]}),
    (
        "terr_nom NOT LIKE '100\\%%'",
        {"op": "not", "args": [{"op": "like", "args": [NAME, "100\\%%"]}]},
    ),
    ("nb_lots IN (1, 3)", {"op": "in", "args": [{"property": "nb_lots"}, [1, 3]]}),
    (
        "site_id NOT IN ('a', 'b')",
        {"op": "not", "args": [{"op": "in", "args": [{"property": "site_id"}, ["a", "b"]]}]},
    ),
    ("nb_lots IS NULL", {"op": "isNull", "args": [{"property": "nb_lots"}]}),
    (
        "nb_lots IS NOT NULL",
        {"op": "not", "args": [{"op": "isNull", "args": [{"property": "nb_lots"}]}]},
    ),
    ("terr_nom = 'Parc d''activités'", {"op": "=", "args": [NAME, "Parc d'activités"]}),
    (
        "\"ban-id\" = 'x'' OR ''1''=''1'",
        {"op": "=", "args": [{"property": "ban-id"}, "x' OR '1'='1"]},
    ),
    (
        "CASEI(terr_nom) = CASEI('les ÉPINETTES')",
        {
            "op": "=",
            "args": [
                {"op": "casei", "args": [NAME]},
                {"op": "casei", "args": ["les ÉPINETTES"]},
            ],
        },
    ),
    (
        "ACCENTI(CASEI(terr_nom)) LIKE ACCENTI('saint-e%')",
        {
            "op": "like",
            "args": [
                {"op": "accenti", "args": [{"op": "casei", "args": [NAME]}]},
                {"op": "accenti", "args": ["saint-e%"]},
            ],
        },
    ),
    (
        "terr_actu_date > DATE('2024-06-30')",
        {"op": ">", "args": [{"property": "terr_actu_date"}, {"date": "2024-06-30"}]},
    ),
    (
        "terr_maj >= TIMESTAMP('2024-05-01T10:00:00Z')",
        {"op": ">=", "args": [{"property": "terr_maj"}, {"timestamp": "2024-05-01T10:00:00Z"}]},
    ),
    (
        "site_id = 'a' AND (nb_lots IN (1, 2) OR NOT terr_utile = TRUE) AND terr_m2_prix < 90",
        {
            "op": "and",
            "args": [
                {"op": "=", "args": [{"property": "site_id"}, "a"]},
                {
                    "op": "or",
                    "args": [
                        {"op": "in", "args": [{"property": "nb_lots"}, [1, 2]]},
                        {
                            "op": "not",
                            "args": [{"op": "=", "args": [{"property": "terr_utile"}, True]}],
                        },
                    ],
                },
                {"op": "<", "args": [PROP, 90]},
            ],
        },
    ),
    (
        "S_INTERSECTS(geometry, POINT(2.43 48.63))",
        {
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [2.43, 48.63]}],
        },
    ),
    (
        "S_WITHIN(geometry, POLYGON((2.4 48.6, 2.5 48.6, 2.5 48.7, 2.4 48.6)))",
        {
            "op": "s_within",
            "args": [
                {"property": "geometry"},
                {
                    "type": "Polygon",
                    "coordinates": [[[2.4, 48.6], [2.5, 48.6], [2.5, 48.7], [2.4, 48.6]]],
                },
            ],
        },
    ),
    (
        "S_CONTAINS(POINT(2.43 48.63), geometry)",
        {
            "op": "s_contains",
            "args": [{"type": "Point", "coordinates": [2.43, 48.63]}, {"property": "geometry"}],
        },
    ),
    (
        "S_DISJOINT(geometry, BBOX(2.4, 48.6, 2.5, 48.7))",
        {"op": "s_disjoint", "args": [{"property": "geometry"}, {"bbox": [2.4, 48.6, 2.5, 48.7]}]},
    ),
    (
        "S_CROSSES(geometry, LINESTRING(2.4 48.6, 2.5 48.7))",
        {
            "op": "s_crosses",
            "args": [
                {"property": "geometry"},
                {"type": "LineString", "coordinates": [[2.4, 48.6], [2.5, 48.7]]},
            ],
        },
    ),
]


@pytest.mark.parametrize(("source", "document"), PAIRS, ids=[p[0] for p in PAIRS])
def test_text_and_json_give_the_same_tree(source, document):
    tree = text(source)
    assert cjson(document) == tree
    assert cjson(json.dumps(document)) == tree


def test_the_tree_it_builds():
    source = (
        "(CASEI(terr_nom) LIKE 'les%' OR ACCENTI(terr_nom) = 'Saint-Eloi')"
        ' AND terr_m2_prix BETWEEN 40 AND 90 AND NOT nb_lots IN (3) AND "ban-id" IS NULL'
        " AND terr_actu_date >= '2024-03-01'"
    )
    assert text(source) == And(
        Or(
            Like("terr_nom", "les%", casei=True),
            Comparison("terr_nom", "=", "Saint-Eloi", accenti=True),
        ),
        Between("terr_m2_prix", 40.0, 90.0),
        Not(In("nb_lots", (3,))),
        IsNull("ban-id"),
        Comparison("terr_actu_date", ">=", dt.date(2024, 3, 1)),
    )
    stamp = text("terr_maj < TIMESTAMP('2024-05-01T12:00:00+02:00')")
    assert stamp == Comparison("terr_maj", "<", dt.datetime(2024, 5, 1, 10, tzinfo=dt.UTC))
    assert stamp.value.tzinfo == dt.UTC


def test_or_binds_looser_than_and_and_not_takes_parentheses():
    a, b, c = (Comparison("nb_lots", "=", n) for n in (1, 2, 3))
    assert text("nb_lots = 1 OR nb_lots = 2 AND nb_lots = 3") == Or(a, And(b, c))
    assert text("nb_lots = 1 AND nb_lots = 2 OR nb_lots = 3") == Or(And(a, b), c)
    assert text("(nb_lots = 1 OR nb_lots = 2) AND nb_lots = 3") == And(Or(a, b), c)
    assert text("NOT (nb_lots = 1 OR nb_lots = 2)") == Not(Or(a, b))
    assert text("NOT nb_lots = 1 AND nb_lots = 2") == And(Not(a), b)
    assert text("NOT (NOT (nb_lots = 1))") == Not(Not(a))
    assert text("nb_lots = 1 OR nb_lots = 2 OR nb_lots = 3") == Or(a, b, c)  # flattened
    multiline = "site_id = 'a\nb'\n  AND\r\n\tnb_lots = 1"
    assert text(multiline) == And(Comparison("site_id", "=", "a\nb"), a)


def test_geometry_literals_are_reprojected_from_crs84_by_default():
    point = text("S_INTERSECTS(geometry, POINT(2.43 48.63))")
    assert point.op == "intersects"
    assert point.geometry.equals_exact(shapely.Point(l93(2.43, 48.63)), 1e-6)
    box = text("S_INTERSECTS(geometry, BBOX(2.4, 48.6, 2.5, 48.7))").geometry
    corners = [l93(2.4, 48.6), l93(2.5, 48.6), l93(2.5, 48.7), l93(2.4, 48.7)]
    assert box.equals_exact(shapely.Polygon(corners).normalize(), 1e-6) or all(
        shapely.Point(c).distance(box.exterior) < 1e-6 for c in corners
    )


@pytest.mark.parametrize(
    "crs",
    ["EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/4326", "urn:ogc:def:crs:EPSG::4326"],
)
def test_epsg_4326_literals_are_lat_lon(crs):
    expected = shapely.Point(l93(2.43, 48.63))
    lat_lon = text("S_INTERSECTS(geometry, POINT(48.63 2.43))", filter_crs=crs)
    assert lat_lon.geometry.equals_exact(expected, 1e-6)
    crs84 = text(
        "S_INTERSECTS(geometry, POINT(2.43 48.63))",
        filter_crs="http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    )
    assert crs84 == lat_lon
    document = {
        "op": "s_intersects",
        "args": [{"property": "geometry"}, {"type": "Point", "coordinates": [48.63, 2.43]}],
    }
    assert cjson(document, filter_crs=crs) == lat_lon
    box = text("S_INTERSECTS(geometry, BBOX(48.6, 2.4, 48.7, 2.5))", filter_crs=crs).geometry
    assert box.equals(text("S_INTERSECTS(geometry, BBOX(2.4, 48.6, 2.5, 48.7))").geometry)


def test_lambert_93_literals_are_kept_as_they_are():
    literal = "S_WITHIN(geometry, POLYGON((655000 6835000, 656000 6835000, 656000 6836000, 655000 6835000)))"
    for crs in ("EPSG:2154", "http://www.opengis.net/def/crs/EPSG/0/2154"):
        tree = text(literal, filter_crs=crs)
        expected = shapely.Polygon(
            [(655_000, 6_835_000), (656_000, 6_835_000), (656_000, 6_836_000)]
        )
        assert tree == SpatialPredicate("within", tree.geometry)
        assert tree.geometry.equals_exact(expected, 0)


def test_spatial_predicates_each_map_to_their_operator():
    ops = [
        "intersects",
        "within",
        "contains",
        "disjoint",
        "equals",
        "touches",
        "crosses",
        "overlaps",
    ]
    for op in ops:
        tree = text(f"S_{op.upper()}(geometry, POINT(2.43 48.63))")
        assert tree.op == op
    swapped = {"within": "contains", "contains": "within"}
    for op in ops:
        assert text(f"S_{op.upper()}(POINT(2.43 48.63), geometry)").op == swapped.get(op, op)


def test_unknown_and_hidden_fields_answer_alike():
    with pytest.raises(InvalidInput) as unknown:
        text("nope = 1")
    assert unknown.value.description == "unknown field 'nope'"
    with pytest.raises(InvalidInput) as shape:
        check_fields(CONTRACT_LAYER.fields, ["nope"])
    assert shape.value.description == unknown.value.description
    visible = {k: v for k, v in FIELDS.items() if k != "terr_m2_prix"}
    for source in (
        "terr_m2_prix > 1",
        "terr_m2_prix IS NULL",
        "nb_lots = 1 OR terr_m2_prix IN (1)",
    ):
        with pytest.raises(InvalidInput) as hidden:
            parse_filter(source, "cql2-text", fields=visible)
        assert hidden.value.description == "unknown field 'terr_m2_prix'"
    document = {"op": "like", "args": [{"property": "terr_m2_prix"}, "1%"]}
    with pytest.raises(InvalidInput, match="^unknown field 'terr_m2_prix'$"):
        parse_filter(document, "cql2-json", fields=visible)
    spatial = "S_INTERSECTS(geometry, POINT(2.43 48.63))"
    with pytest.raises(InvalidInput, match="^unknown field 'geometry'$"):
        parse_filter(spatial, "cql2-text", fields=FIELDS, geometry_name=None)


@pytest.mark.parametrize(
    ("source", "operator"),
    [
        ("T_BEFORE(terr_actu_date, DATE('2024-01-01'))", "T_BEFORE"),
        ("t_intersects(terr_maj, INTERVAL('2024-01-01', '2024-02-01'))", "T_INTERSECTS"),
        ("A_CONTAINS(site_id, ('a'))", "A_CONTAINS"),
        ("terr_m2_prix = 1 + 2", "+"),
        ("terr_m2_prix * 2 > 10", "*"),
        ("RELATE(geometry, POINT(1 2), 'T********')", "RELATE"),
        ("INCLUDE", "INCLUDE"),
    ],
)
def test_unsupported_text_operators_are_named(source, operator):
    with pytest.raises(
        InvalidInput,
        match=f"unsupported operator '{operator.replace('+', '[+]').replace('*', '[*]')}'",
    ):
        text(source)


@pytest.mark.parametrize(
    ("document", "operator"),
    [
        (
            {
                "op": "t_before",
                "args": [{"property": "terr_maj"}, {"timestamp": "2024-01-01T00:00:00Z"}],
            },
            "t_before",
        ),
        ({"op": "a_equals", "args": [{"property": "site_id"}, ["a"]]}, "a_equals"),
        ({"op": "+", "args": [1, 2]}, "+"),
        ({"op": "DROP TABLE", "args": []}, "DROP TABLE"),
    ],
)
def test_unsupported_json_operators_are_named(document, operator):
    with pytest.raises(
        InvalidInput, match=f"^unsupported operator '{operator.replace('+', '[+]')}'$"
    ):
        cjson(document)


def test_unsupported_functions_are_named():
    with pytest.raises(InvalidInput, match="^unsupported function 'upper'$"):
        text("upper(terr_nom) = 'A'")
    document = {"op": "=", "args": [{"function": {"name": "upper", "arguments": [NAME]}}, "A"]}
    with pytest.raises(InvalidInput, match="^unsupported function 'upper'$"):
        cjson(document)


def _clean(message):
    for internal in ("Traceback", "Token(", "lark", "Unexpected", "Error", "pygeofilter", "File "):
        assert internal not in message, message


@pytest.mark.parametrize(
    "source",
    ["site_id =", "(site_id = 'a'", "", "   ", "terr_actu_date = DATE('2024-02-30')", "NOT"],
)
def test_other_malformed_text_is_invalid_input(source):
    with pytest.raises(InvalidInput) as caught:
        text(source)
    _clean(caught.value.description)


@pytest.mark.parametrize(
    "document",
    [
        '{"op": "=", "args": [{"property": "site_id"}, ',
        "[1, 2]",
        '"site_id = 1"',
        {"op": "=", "args": [{"property": "site_id"}]},
        {"op": "=", "args": "site_id"},
        {"op": "not", "args": [1, 2]},
        {"op": "=", "args": [{"property": 3}, 1]},
        {"op": "s_intersects", "args": [{"property": "geometry"}, {"bbox": [1, 2, "3", 4]}]},
        {
            "op": "s_intersects",
            "args": [{"property": "geometry"}, {"type": "Polygon", "coordinates": [1]}],
        },
        {"op": ">", "args": [{"property": "terr_actu_date"}, {"date": "2024-13-01"}]},
        {"op": ">", "args": [{"property": "terr_actu_date"}, {"interval": ["2024-01-01", ".."]}]},
        {"nonsense": True},
    ],
)
def test_malformed_json_is_invalid_input(document):
    with pytest.raises(InvalidInput) as caught:
        cjson(document)
    _clean(caught.value.description)


def test_malformed_json_text_says_where():
    with pytest.raises(InvalidInput, match="line 2, column 3"):
        cjson("{\n  'op': '='}")


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("site_id = = 3", "malformed CQL2 text at line 1, column 11"),
        ("site_id = 'a' $", "malformed CQL2 text at line 1, column 15"),
        ("site_id = 'a'\n AND AND nb_lots = 1", "malformed CQL2 text at line 2, column 10"),
        ("site_id = 'a' AND\n\tnb_lots = = 1", "malformed CQL2 text at line 2, column 12"),
        ("site_id = 'unclosed", "malformed CQL2 text at line 1, column 11"),
        ("terr_m2_prix = 'abc'", "'terr_m2_prix' is a number field: 'abc' is not a number"),
        ("nb_lots = TRUE", "'nb_lots' is an integer field: true is not an integer"),
        ("terr_utile = 'yes'", "'terr_utile' is a boolean field"),
        ("site_id = 12", "'site_id' is a string field: 12 is not a string"),
        ("terr_actu_date = 'soon'", "'terr_actu_date' is a date field"),
        ("terr_actu_date = TIMESTAMP('2024-01-01T00:00:00Z')", "is a date field"),
        ("terr_m2_prix BETWEEN 1 AND 'x'", "is a number field"),
        ("nb_lots IN (1, 'two')", "is an integer field"),
        ("terr_m2_prix LIKE '4%'", "LIKE needs a string field: 'terr_m2_prix' is a number field"),
        ("CASEI(nb_lots) = 1", "CASEI needs a string field"),
        ("site_id = nb_lots", "a property on one side"),
        ("'a' = 'b'", "a property on one side"),
        ("geometry = 'x'", "only be used with the spatial operators"),
        ("S_INTERSECTS(site_id, POINT(1 2))", "'site_id' is not a geometry property"),
        ("S_INTERSECTS(geometry, site_id)", "needs a geometry literal"),
        (
            "S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))",
            "not valid (Self-intersection)",
        ),
        ("S_INTERSECTS(geometry, POINT(2 100))", "outside the area of its CRS"),
        ("S_INTERSECTS(geometry, SRID=4326;POINT(2 48))", "filter-crs"),
        ("S_INTERSECTS(geometry, ENVELOPE(1 2 3 4))", "use BBOX"),
        ("S_INTERSECTS(geometry, BBOX(2.5, 48.6, 2.4, 48.7))", "lower corner first"),
        ("S_INTERSECTS(geometry, GEOMETRYCOLLECTION(POINT(2.4 48.6)))", "collections"),
        ("terr_nom = 'a\x00b'", "NUL"),
    ],
)
def test_errors_say_what_is_wrong(source, message):
    with pytest.raises(InvalidInput) as caught:
        text(source)
    assert message in caught.value.description
    _clean(caught.value.description)
    error = caught.value  # no chained driver or parser exception behind it
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_limits_and_options():
    with pytest.raises(InvalidInput, match="filter-lang 'ecql'"):
        parse_filter("site_id = 'a'", "ecql", fields=FIELDS)  # type: ignore[arg-type]
    with pytest.raises(InvalidInput, match="longer than"):
        text("site_id = '" + "x" * MAX_FILTER_CHARS + "'")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        text("NOT " * 200 + "site_id = 'a'")
    deep = {"op": "isNull", "args": [{"property": "site_id"}]}
    for _ in range(200):
        deep = {"op": "not", "args": [deep]}
    with pytest.raises(InvalidInput, match="nested too deeply"):
        cjson(deep)
    with pytest.raises(InvalidInput, match="nested too deeply"):
        cjson("[" * 5_000 + "]" * 5_000)
    with pytest.raises(InvalidInput, match="unknown CRS"):
        text("S_INTERSECTS(geometry, POINT(2 48))", filter_crs="EPSG:999999")
    with pytest.raises(InvalidInput, match="nested too deeply"):
        text("NOT (" * 100 + "site_id = 'a'" + ")" * 100)


_TOKENS = st.sampled_from(
    ["site_id", "nb_lots", "terr_m2_prix", "geometry", "=", "<>", "<", "AND", "OR", "NOT", "(",
     ")", "'a'", "1", "2.5", "-", "LIKE", "IN", "BETWEEN", "IS", "NULL", ",", "S_INTERSECTS",
     "POINT", "BBOX", "CASEI", "ACCENTI", "DATE", "'2024-01-01'", "TRUE", '"ban-id"', "T_BEFORE",
     "+", ";", "SRID", "'", "%", "\\", "\n"]
)  # fmt: skip
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["op", "args", "property", "bbox", "date", "type", "coordinates"]),
            inner,
            max_size=3,
        )
        | st.builds(
            lambda op, args: {"op": op, "args": args},
            st.sampled_from(["and", "not", "=", "like", "between", "in", "isNull", "s_within"]),
            st.lists(inner, max_size=3),
        )
    ),
    max_leaves=15,
)


@settings(max_examples=300, deadline=None)
@given(st.lists(_TOKENS, max_size=12))
def test_any_text_is_a_tree_or_invalid_input(parts):
    try:
        text(" ".join(parts))
    except InvalidInput as exc:
        _clean(exc.description)


@settings(max_examples=300, deadline=None)
@given(_JSON)
def test_any_json_is_a_tree_or_invalid_input(document):
    try:
        cjson(document if isinstance(document, dict) else json.dumps(document))
    except InvalidInput as exc:
        _clean(exc.description)
