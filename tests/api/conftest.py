"""The API suites read the served demo of ``tests/served_demo.py`` (both stores, a key per tier)."""

from tests.served_demo import Served

__all__ = ["Served"]
