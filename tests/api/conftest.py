"""The served demo of the policy tests (both stores, a key per tier), for the API suites too."""

from tests.policy.conftest import Served, demo_sources, served

__all__ = ["Served", "demo_sources", "served"]
