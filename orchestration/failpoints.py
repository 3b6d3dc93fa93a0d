"""Named points where a fault test can kill the process (VALUATION_FAILPOINT=name): a no-op otherwise.

They sit where a crash would hurt most (inside a transaction, between two writes), so the fault
catalogue (tests/faults) can prove that a crash there loses nothing and leaves no mix.
"""

import os
import signal


def failpoint(name: str) -> None:
    if os.environ.get("VALUATION_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
