"""Atlas: the territorial-marketing GIS atlas of a French agglomeration."""

__version__ = "0.1.0"
