"""The legal inventory of the zones d'activité économique (art. L.318-8-2 code de l'urbanisme).

``atlas inventory export OUT_DIR [--publish/--internal]`` and ``GET /inventory/export`` (staff
only) write it in the CNIG Sites économiques format v1.0.1: one CSV per class, a GeoPackage, a
datapackage and the reports, validated with frictionless against the CNIG TableSchemas before
anything is moved into place.

- ``tables``: the CNIG tables built from the current store versions, read through an internal
  caller's gate (audited, action ``inventory``); vacancy recomputed from the plots.
- ``publication``: what the published copy leaves out or blanks, and the articles that say so.
- ``write``: the files, their formats, the validation and the atomic move; the zip for HTTP.
- ``cli``: ``atlas inventory export``.

Classes: SITE-ECO, TERRAIN-ECO, ETABLISSEMENT. POLE-ECO is not exported: the atlas stores no
pole other than the ``pole_id`` of each site, and the POLE-ECO class requires ``pole_nom``,
``pole_vocadomi``, ``pole_identif_date``, ``pole_surface`` and ``pole_geompoint``; deriving
names or dates nobody declared would put invented data into a legal document. L.318-8-2 asks
for the zones, not for poles.
"""

from atlas.inventory.tables import Inventory, build_inventory
from atlas.inventory.write import ExportResult, InvalidInventory, export_inventory, inventory_zip

__all__ = [
    "ExportResult",
    "InvalidInventory",
    "Inventory",
    "build_inventory",
    "export_inventory",
    "inventory_zip",
]
