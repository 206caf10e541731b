"""Tiling: vector tiles per collection and as one multi-layer tileset, their cache, TileJSON,
MapLibre styles and seeding (``vector``, ``cache``, ``tilejson``, ``styles``, ``seed``), raster
tiles and the PMTiles export; tile grids are ``atlas.query.grids``. Every tile is read through
the caller's ``Gate``: the gate decides what a tier sees, this package only serves and keeps it.
"""
