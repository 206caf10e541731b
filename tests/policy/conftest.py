"""The policy tests read the served demo of ``tests/served_demo.py`` (both stores, a key per tier)."""

from tests.served_demo import SCALE, Served

__all__ = ["SCALE", "Served"]
