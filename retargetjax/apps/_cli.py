"""What every command-line app shares: one-line errors, quiet logs, status lines.

* :func:`user_errors` turns a user's mistake (a missing file, a bad value, an unwritable
  output) into one line ``error: <file>: <what>; expected <what>`` on stderr and exit status
  1, and Ctrl-C into one ``interrupted`` line and status 130. With ``--verbose`` on the
  command line or ``HYDRA_FULL_ERROR=1`` the traceback is shown instead. Anything else (a
  bug) keeps its traceback.
* :func:`quiet_logs` silences JAX's backend probing and the second copy of the keypoint
  map (the motion module prints it once; its log record would repeat it).
* :class:`Status` prints what a long step is doing, with the seconds ticking on a terminal.
* :class:`ArgumentParser` gives the argparse tools the same convention: a bad command line
  is one ``error:`` line and exit status 1 (argparse's own is the usage and status 2).
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
import threading
import time
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, NoReturn

__all__ = [
    "ArgumentParser",
    "Status",
    "arguments_without_verbose",
    "error_line",
    "precheck_overrides",
    "quiet_logs",
    "take_verbose_flag",
    "user_errors",
    "verbose",
]

_VERBOSE = False


def take_verbose_flag(argv: list[str] | None = None) -> bool:
    """Remove ``--verbose``/``-v`` from ``argv`` (default ``sys.argv``); remember it."""
    global _VERBOSE
    argv = sys.argv if argv is None else argv
    for flag in ("--verbose", "-v"):
        while flag in argv[1:]:
            argv.remove(flag)
            _VERBOSE = True
    if _VERBOSE:  # Hydra then prints the whole traceback of a failed job too
        os.environ["HYDRA_FULL_ERROR"] = "1"
    return _VERBOSE


def arguments_without_verbose(argv: Sequence[str] | None = None) -> list[str]:
    """The arguments (``sys.argv[1:]`` by default) without ``--verbose``/``-v``, which is
    remembered (:func:`verbose`: tracebacks are then shown)."""
    args = list(sys.argv[1:] if argv is None else argv)
    take_verbose_flag(["prog", *args])
    return [a for a in args if a not in ("--verbose", "-v")]


def verbose() -> bool:
    """Show tracebacks: ``--verbose`` was given or ``HYDRA_FULL_ERROR=1``."""
    return _VERBOSE or os.environ.get("HYDRA_FULL_ERROR") == "1"


def _user_error_types() -> tuple[type[BaseException], ...]:
    from omegaconf.errors import OmegaConfBaseException

    # ValueError covers the project's own errors (MotionFormatError, RetargetError,
    # RobotFileError, ManifestError, pydantic's ValidationError); OSError covers missing
    # files, permissions and full disks.
    return (OSError, ValueError, zipfile.BadZipFile, EOFError, OmegaConfBaseException)


def error_line(exc: BaseException) -> str:
    """The one-line message of a user's mistake."""
    from omegaconf.errors import MissingMandatoryValue, OmegaConfBaseException

    if isinstance(exc, MissingMandatoryValue):
        key = getattr(exc, "full_key", None) or "a required value"
        hint = {
            "motion.path": "motion.path=FILE (a .bvh, an AMASS .npz or a keypoint .npz/.npy)",
            "input_dir": "input_dir=DIR (the folder of motion files)",
        }.get(str(key), f"{key}=VALUE on the command line")
        return f"error: {key} is not set; expected {hint}"
    if isinstance(exc, OmegaConfBaseException):
        text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        key = getattr(exc, "full_key", None)
        return f"error: {key + ': ' if key else ''}{text}"
    if isinstance(exc, OSError) and exc.filename and exc.strerror:
        return f"error: {exc.filename}: {exc.strerror}"
    text = " ".join(str(exc).split()) or type(exc).__name__
    if isinstance(exc, (zipfile.BadZipFile, EOFError)):
        text = f"cannot read the file ({text}); expected a complete file"
    return f"error: {text}"


@contextlib.contextmanager
def user_errors(interrupted: Any = None) -> Iterator[None]:
    """Report user mistakes in one line and exit 1; Ctrl-C: one line and exit 130.

    Args:
        interrupted: a callable returning the ``interrupted`` line's detail (e.g. "3 of 10
            done, rerun the same command to resume"), or ``None``.
    """
    try:
        yield
    except KeyboardInterrupt:
        if verbose():
            raise
        detail = ""
        with contextlib.suppress(Exception):
            detail = interrupted() if interrupted is not None else ""
        print(f"\ninterrupted{': ' + detail if detail else ''}", file=sys.stderr, flush=True)
        raise SystemExit(130) from None
    except _user_error_types() as exc:
        if verbose():
            raise
        print(error_line(exc), file=sys.stderr, flush=True)
        raise SystemExit(1) from None


def precheck_overrides(config_name: str, argv: list[str] | None = None) -> None:
    """Compose ``configs/<config_name>.yaml`` with the command line's plain overrides before
    Hydra does, so that an unknown key or option is one ``error:`` line (exit 1), not
    Hydra's multi-line report. Sweep values (``a=1,2``) and ``hydra.*`` keys are left to
    Hydra; any flag but ``-m``/``--multirun`` skips the check."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser

    from . import configs_dir

    args = (sys.argv if argv is None else argv)[1:]
    if verbose() or any(a.startswith("-") and a not in ("-m", "--multirun") for a in args):
        return
    try:
        parsed = OverridesParser.create().parse_overrides([a for a in args if "=" in a])
    except Exception as exc:
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
        raise SystemExit(1) from None
    plain = [
        o.input_line
        for o in parsed
        if not o.is_sweep_override()
        and not o.key_or_group.startswith("hydra")
        and o.input_line is not None
    ]
    if GlobalHydra.instance().is_initialized():
        return
    try:
        with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
            compose(config_name=config_name, overrides=plain)
    except Exception as exc:
        options = getattr(exc, "options", None)
        text = " ".join(str(exc).split("\n\n")[0].split())
        if options:
            text += f"; expected one of {', '.join(options)}"
            text += _file_hint(plain)
        elif "not in struct" in str(exc):
            text += " (no such setting; expected a key of configs/, or +KEY=VALUE to add one)"
        print(f"error: {text}", file=sys.stderr)
        raise SystemExit(1) from None
    finally:
        GlobalHydra.instance().clear()


def _file_hint(overrides: list[str]) -> str:
    """`` (a file: robot.path=...)`` when a config group (``robot=``, ``motion=``) was given a
    file instead of one of its options: the mistake users make first."""
    for line in overrides:
        key, _, value = line.partition("=")
        if key in ("robot", "motion") and ("/" in value or Path(value).suffix):
            return f" (a file: {key}.path={value})"
    return ""


class ArgumentParser(argparse.ArgumentParser):
    """``argparse.ArgumentParser`` whose usage errors are one ``error:`` line, exit 1."""

    def error(self, message: str) -> NoReturn:
        """Print ``error: <what>; expected <usage>`` on stderr and exit with status 1."""
        usage = " ".join(self.format_usage().split()).removeprefix("usage: ")
        print(f"error: {message}; expected {usage}", file=sys.stderr, flush=True)
        raise SystemExit(1)


def quiet_logs() -> None:
    """No backend-probe noise from JAX; the keypoint map printed once (not logged again);
    a warning is its one line of text (the robot parsers' notes), not Python's two lines
    with the source line that raised it."""
    for name in ("jax", "jax._src.xla_bridge", "absl"):
        logging.getLogger(name).setLevel(logging.WARNING)
    logging.getLogger("retargetjax.motion").setLevel(logging.WARNING)
    warnings.formatwarning = _one_line_warning


def _one_line_warning(message: Warning | str, category: type[Warning], *_: Any, **__: Any) -> str:
    """``warnings.formatwarning`` for the apps: the message alone (with its category where it
    is not a plain ``UserWarning``)."""
    prefix = "" if category is UserWarning else f"{category.__name__}: "
    return f"{prefix}{message}\n"


class Status:
    """``with Status("compiling and solving"):`` prints the text, the seconds ticking when
    stderr is a terminal, then ``… done in 12.3 s`` (nothing ticks in a log file)."""

    def __init__(self, text: str, *, stream: Any = None) -> None:
        self.text = text
        self.stream = stream if stream is not None else sys.stderr
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self.seconds = 0.0

    def _tty(self) -> bool:
        isatty = getattr(self.stream, "isatty", None)
        return bool(isatty and isatty())

    def _tick(self) -> None:
        while not self._stop.wait(1.0):
            elapsed = time.perf_counter() - self._t0
            self.stream.write(f"\r{self.text} {elapsed:.0f} s")
            self.stream.flush()

    def __enter__(self) -> Status:
        self._t0 = time.perf_counter()
        if self._tty():
            self.stream.write(f"{self.text} ...")
            self._thread = threading.Thread(target=self._tick, daemon=True)
            self._thread.start()
        else:
            self.stream.write(f"{self.text} ...\n")
        self.stream.flush()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.seconds = time.perf_counter() - self._t0
        end = "done" if exc_type is None else "stopped"
        prefix = "\r" if self._thread is not None else ""
        self.stream.write(f"{prefix}{self.text}: {end} in {self.seconds:.1f} s\n")
        self.stream.flush()
