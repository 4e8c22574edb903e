"""The documented batch API: resumable batches of retargeting jobs with a JSON manifest.

``BatchJob`` describes one job, a ``BatchWorker`` performs it, ``BatchRunner.run`` runs a
list of jobs (in-process or in a process pool), skips finished ones and rewrites a
``BatchManifest`` of ``BatchRunRecord`` s atomically after every job, so a killed or
interrupted run resumes where it stopped.
"""

from ..types import MotionFormatKind as MotionFormatKind
from ..types import RobotKind as RobotKind
from ..types import RunStatus as RunStatus
from ._manifest_io import write_json_atomic as write_json_atomic
from ._manifest_io import write_text_atomic as write_text_atomic
from ._models import MANIFEST_SCHEMA_VERSION as MANIFEST_SCHEMA_VERSION
from ._models import BatchJob as BatchJob
from ._models import BatchManifest as BatchManifest
from ._models import BatchRunRecord as BatchRunRecord
from ._models import ManifestError as ManifestError
from ._runner import BatchRunner as BatchRunner
from ._runner import BatchWorker as BatchWorker

__all__ = [
    "MANIFEST_SCHEMA_VERSION",
    "BatchJob",
    "BatchManifest",
    "BatchRunRecord",
    "BatchRunner",
    "BatchWorker",
    "ManifestError",
    "MotionFormatKind",
    "RobotKind",
    "RunStatus",
    "write_json_atomic",
    "write_text_atomic",
]
