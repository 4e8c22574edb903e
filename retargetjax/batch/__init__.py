"""The documented batch API: resumable batches of retargeting jobs with a JSON manifest.

``BatchJob`` describes one job, a ``BatchWorker`` performs it, ``BatchRunner.run`` runs a
list of jobs (in-process or in a process pool), skips finished ones and rewrites a
``BatchManifest`` of ``BatchRunRecord`` s atomically after every job, so a killed or
interrupted run resumes where it stopped.
"""

from ..types import MotionFormatKind as MotionFormatKind
from ..types import RobotKind as RobotKind
from ..types import RunStatus as RunStatus
from ._discovery import discover_jobs as discover_jobs
from ._grouped import RowPlan as RowPlan
from ._grouped import compile_count as compile_count
from ._grouped import default_max_windows as default_max_windows
from ._grouped import plan_rows as plan_rows
from ._grouped import run_grouped as run_grouped
from ._grouped import solve_rows as solve_rows
from ._manifest_io import write_json_atomic as write_json_atomic
from ._manifest_io import write_text_atomic as write_text_atomic
from ._models import MANIFEST_SCHEMA_VERSION as MANIFEST_SCHEMA_VERSION
from ._models import BatchJob as BatchJob
from ._models import BatchManifest as BatchManifest
from ._models import BatchRunRecord as BatchRunRecord
from ._models import ManifestError as ManifestError
from ._runner import BatchRunner as BatchRunner
from ._runner import BatchWorker as BatchWorker
from ._shards import merge_manifests as merge_manifests
from ._shards import parse_shard as parse_shard
from ._shards import select_shard as select_shard
from ._worker import JobSettings as JobSettings
from ._worker import RetargetWorker as RetargetWorker
from ._worker import compose_config as compose_config

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "BatchJob",
    "BatchManifest",
    "BatchRunRecord",
    "BatchRunner",
    "BatchWorker",
    "JobSettings",
    "ManifestError",
    "MotionFormatKind",
    "RetargetWorker",
    "RobotKind",
    "RowPlan",
    "RunStatus",
    "compile_count",
    "compose_config",
    "default_max_windows",
    "discover_jobs",
    "merge_manifests",
    "parse_shard",
    "plan_rows",
    "run_grouped",
    "select_shard",
    "solve_rows",
    "write_json_atomic",
    "write_text_atomic",
]
