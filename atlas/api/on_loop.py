"""Dependencies that run on the event loop instead of FastAPI's thread pool.

FastAPI runs every plain ``def`` dependency, and every dependency *class*, in its thread pool:
one hop per dependency, each waiting for a free thread and then for the GIL behind the handlers
already running. An items request made ten such hops before its query; under 16 concurrent
requests per worker the waits added up into the tail (p99 2.6 × p50, bench/features.py at 32
connections). Parsing parameters and reading ``app.state`` take microseconds and never block, so
they run on the loop; only the handler (which waits on the store) keeps its thread.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

T = TypeVar("T")


def on_loop(factory: Callable[..., T]) -> Callable[..., Awaitable[T]]:
    """``factory`` (a function or a class) as an ``async`` dependency with the same parameters,
    for FastAPI to call on the event loop; ``factory`` must not block."""
    # eval_str: the wrapper lives in this module, so string annotations are resolved where the
    # factory was written (FastAPI would otherwise look them up in this module's globals).
    signature = inspect.signature(factory, eval_str=True)

    @functools.wraps(factory)
    async def dependency(**kwargs: object) -> T:
        return factory(**kwargs)

    dependency.__signature__ = signature.replace(return_annotation=signature.return_annotation)  # type: ignore[attr-defined]
    del dependency.__wrapped__  # FastAPI must see this signature, not the class's __init__
    return dependency
