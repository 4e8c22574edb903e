"""Run a test batch in its own process (the kill and Ctrl-C tests signal this process).

Usage: ``python run_batch.py WORK_DIR N_JOBS SLEEP_S MAX_WORKERS``; the manifest is
``WORK_DIR/manifest.json``.
"""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # make batch_helpers importable

from batch_helpers.workers import ScriptedWorker, make_jobs
from retargetjax.batch import BatchRunner


def main() -> None:
    # Ctrl-C raises KeyboardInterrupt, as in a terminal, even when the test run was started in
    # the background (a shell starts background jobs with SIGINT ignored, and children inherit
    # that).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    work_dir, n_jobs, sleep_s, max_workers = sys.argv[1:5]
    work_dir = Path(work_dir)
    BatchRunner.run(
        make_jobs(work_dir, int(n_jobs)),
        ScriptedWorker(sleep_s=float(sleep_s)),
        manifest_path=work_dir / "manifest.json",
        max_workers=int(max_workers),
        progress=False,
    )


if __name__ == "__main__":
    main()
