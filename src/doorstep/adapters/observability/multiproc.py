"""prometheus-client's multiprocess mode for ``serve --workers N``.

Each uvicorn worker is its own process with its own counters; a scrape reaches one of them.
In multiprocess mode every process writes its samples to files in PROMETHEUS_MULTIPROC_DIR and
``metrics.render`` sums the files, so any worker answers for all (and for the parent's
background sweeps). prometheus-client reads the variable when it is first imported, so this
module must not import it and must run before anything else does.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def share_metrics_between_processes() -> Path | None:
    """Point this process and the workers it starts at one empty metrics directory: the
    given PROMETHEUS_MULTIPROC_DIR emptied, else a temporary one removed at exit.

    None, with a warning, when prometheus-client is already imported (``serve`` called from
    inside another program, e.g. a test): each worker then reports only its own samples."""
    if "prometheus_client" in sys.modules:
        logging.getLogger(__name__).warning(
            "prometheus_client imported before %s could be set: /metrics per process",
            MULTIPROC_ENV,
        )
        return None
    given = os.environ.get(MULTIPROC_ENV)
    if given:
        path = Path(given)
        path.mkdir(parents=True, exist_ok=True)
        # Samples of an earlier run would be summed into this one's.
        for stale in path.glob("*.db"):
            stale.unlink()
        return path
    path = Path(tempfile.mkdtemp(prefix="doorstep-metrics-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    os.environ[MULTIPROC_ENV] = str(path)
    return path
