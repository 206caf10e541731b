"""Named fault-injection points, so that tests can stop a process at a precise step.

``ATLAS_FAULT_PAUSE=<name>`` makes the process announce ``atlas: paused at <name>`` on stderr
and sleep when it reaches that point; the crash tests then SIGKILL it there. Unset (always in
production), a checkpoint costs one dictionary lookup.
"""

from __future__ import annotations

import os
import sys
import time


def checkpoint(name: str) -> None:
    """Pause forever here when ``ATLAS_FAULT_PAUSE`` names this point."""
    if os.environ.get("ATLAS_FAULT_PAUSE") == name:
        print(f"atlas: paused at {name}", file=sys.stderr, flush=True)
        while True:
            time.sleep(3600)
