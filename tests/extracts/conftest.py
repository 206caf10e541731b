"""The served demo of the policy tests (both stores, a key per tier), reused for extracts."""

from __future__ import annotations

from tests.policy.conftest import Served, demo_sources, served  # noqa: F401 - fixtures
