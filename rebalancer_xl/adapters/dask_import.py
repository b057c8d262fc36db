"""Import Dask's distributed scheduler without its optional numpy and pandas support.

Where numpy is installed, `import distributed` imports it (to allocate receive buffers
with `numpy.empty`), and Dask's own fork-server set-up imports pandas too: about 0.1 s
of CPU for numpy alone in every process of the run (the command, which holds the local
cluster's scheduler, and the fork server its workers come from), for data this command
never sends. Hidden while `distributed` is imported, numpy reads as not installed, so
Dask takes its pure-Python paths (a `bytearray` buffer) and registers its numpy and
pandas serializers lazily, for when they are imported; afterwards nothing is hidden,
so a later `import numpy` works and Dask then handles numpy values as usual.

Importing this module does the import: the fork server preloads it by name.
"""

from __future__ import annotations

import sys
from types import ModuleType

#: Dask's optional integrations the command never needs (pandas needs numpy).
HIDDEN = ("numpy", "pandas")


def import_distributed() -> ModuleType:
    """`distributed`, imported (once) with `HIDDEN` out of sight if not yet imported."""
    imported = sys.modules.get("distributed")
    if imported is not None:  # (None: blocked, as a test does; the import below fails)
        return imported
    hidden = [name for name in HIDDEN if name not in sys.modules]
    for name in hidden:
        sys.modules[name] = None  # type: ignore[assignment]  # makes `import name` fail
    try:
        import distributed
    finally:
        for name in hidden:
            if name in sys.modules and sys.modules[name] is None:
                del sys.modules[name]
    return distributed


import_distributed()
