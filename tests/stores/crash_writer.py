"""Run in a child process by the crash tests: write a big version of the contract layer.

``python -m tests.stores.crash_writer embedded DATA_DIR`` or ``... postgis URL SCHEMA``; the
parent sets ATLAS_FAULT_PAUSE so that the write stops midway, then kills this process.
"""

from __future__ import annotations

import sys

from tests.stores.fixtures import CONTRACT_LAYER, contract_frame, contract_report


def main() -> None:
    kind, *args = sys.argv[1:]
    layers = {CONTRACT_LAYER.collection_id: CONTRACT_LAYER}
    if kind == "embedded":
        from atlas.stores.embedded import EmbeddedStore

        store = EmbeddedStore(args[0], layers=layers)
    else:
        from atlas.stores.postgis import PostgisStore

        store = PostgisStore(args[0], schema=args[1], layers=layers)
    frame = contract_frame(n=int(args[-1]) if args[-1].isdigit() else 30_000, seed=11)
    store.write_version(CONTRACT_LAYER, frame, report=contract_report(frame))
    print("written", flush=True)


if __name__ == "__main__":
    main()
