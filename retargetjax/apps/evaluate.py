"""Evaluation entry points: grade outputs, compare two evaluations, plot and render clips.

retargetjax-evaluate input=OUT.npz|DIR|manifest.json output_dir=DIR [robot=NAME] [motion=PATH]
                     [fps=30] [plots=true] [title=TEXT]
retargetjax-compare  a=DIR b=DIR [output_dir=DIR] [a_name=retargetjax] [b_name=gmr]
retargetjax-render   input=OUT.npz output=clip.mp4|clip.gif [robot=NAME] [motion=PATH]
                     [size=1280x672] [stride=1] [max_frames=N] [view_radius_m=1.0]
retargetjax-plot     input=OUT.npz output=clip.png [robot=NAME] [motion=PATH] [fps=30]

These are plain command-line tools, not Hydra apps: their arguments are ``key=value`` pairs
(the same look as the Hydra apps' overrides, but no config tree, sweeps or ``-m``);
``robot=`` names the robot of files that do not (BeyondMimic CSV, GMR pickle, mjlab npz),
``motion=`` the human source clip when the output does not record it. Mistakes print one
``error:`` line and exit 1 (``--verbose`` shows the traceback).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from ._cli import Status, arguments_without_verbose, quiet_logs, user_errors

__all__ = [
    "compare_main",
    "main",
    "parse_key_values",
    "plot_main",
    "render_main",
]


def _bool(text: str) -> bool:
    value = text.strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"expected true or false, got {text!r}")


def parse_key_values(
    argv: Sequence[str],
    spec: dict[str, Callable[[str], Any]],
    required: Sequence[str],
    usage: str,
) -> dict[str, Any]:
    """Parse ``key=value`` arguments against ``spec`` (key → converter).

    A leading ``+`` (Hydra's "add a key") is ignored. A spec key ending in ``.*`` (e.g.
    ``motion.options.*``) accepts every key under that prefix, kept whole in the result.
    ``null``/``none``/empty values become ``None``. Unknown keys, a missing ``=``, a value
    the converter rejects or a missing required key exit with status 1: an ``error:`` line,
    then the usage.
    """
    if any(a in ("-h", "--help", "help") for a in argv):
        print(usage)
        raise SystemExit(0)
    out: dict[str, Any] = {}
    for arg in argv:
        key, sep, text = arg.partition("=")
        key = key.lstrip("+").strip()
        if not sep:
            raise SystemExit(f"error: argument {arg!r} is not key=value\n\n{usage}")
        pattern = key if key in spec else _prefix_pattern(key, spec)
        if pattern is None:
            raise SystemExit(
                f"error: unknown key {key!r}; expected one of {sorted(spec)}\n\n{usage}"
            )
        if text.strip().lower() in ("", "null", "none"):
            out[key] = None
            continue
        try:
            out[key] = spec[pattern](text)
        except ValueError as err:
            raise SystemExit(f"error: {key}={text!r}: {err}\n\n{usage}") from None
    missing = [k for k in required if out.get(k) is None]
    if missing:
        raise SystemExit(f"error: missing {', '.join(k + '=' for k in missing)}\n\n{usage}")
    return out


def _prefix_pattern(key: str, spec: dict[str, Any]) -> str | None:
    """The ``prefix.*`` key of ``spec`` that ``key`` falls under, or ``None``."""
    for pattern in spec:
        if pattern.endswith(".*") and key.startswith(pattern[:-1]) and len(key) > len(pattern) - 1:
            return pattern
    return None


def _usage(name: str) -> str:
    lines = [ln for ln in (__doc__ or "").splitlines() if ln.strip()]
    block: list[str] = []
    for ln in lines:
        if ln.startswith(name):
            block = [ln]
        elif block and ln.startswith(" "):
            block.append(ln)
        elif block:
            break
    return "usage: " + "\n".join(block)


def _size(text: str) -> tuple[int, int]:
    width, sep, height = text.lower().partition("x")
    if not sep or not width.isdigit() or not height.isdigit() or int(width) < 64:
        raise ValueError(f"expected WIDTHxHEIGHT in pixels, e.g. 1280x672, got {text!r}")
    return int(width), int(height)


def main(argv: Sequence[str] | None = None) -> int:
    """``retargetjax-evaluate``: write metrics.csv, metrics.json and summary.md for outputs."""
    quiet_logs()
    with user_errors():
        return _evaluate(arguments_without_verbose(argv))


def _evaluate(argv: Sequence[str]) -> int:
    from ..evaluation import evaluate_outputs

    args = parse_key_values(
        argv,
        {
            "input": str,
            "output_dir": str,
            "robot": str,
            "motion": str,
            "fps": float,
            "plots": _bool,
            "title": str,
        },
        ["input", "output_dir"],
        _usage("retargetjax-evaluate"),
    )
    robot = args.get("robot")
    if robot is not None or Path(args["input"]).suffix.lower() == ".npz":
        robot = _robot_for(args["input"], robot, args.get("fps")) or robot
    with Status(f"evaluating {args['input']}"):
        report = evaluate_outputs(
            args["input"],
            args["output_dir"],
            robot=robot,
            motion=args.get("motion"),
            fps=args.get("fps"),
            plots=bool(args.get("plots") or False),
            title=args.get("title"),
        )
    ok = sum(r.get("status") == "ok" for r in report.rows)
    print(Path(report.files["summary.md"]).read_text())
    print(f"{ok}/{len(report.rows)} clips evaluated; wrote {', '.join(report.files.values())}")
    return 0 if ok or not report.rows else 1


def compare_main(argv: Sequence[str] | None = None) -> int:
    """``retargetjax-compare``: per-metric deltas between two evaluation folders."""
    with user_errors():
        return _compare(arguments_without_verbose(argv))


def _check_evaluation_folder(path: str) -> None:
    """A folder of outputs (not of an evaluation): say in one line what to run first."""
    folder = Path(path)
    if folder.suffix.lower() == ".json" or (folder / "metrics.json").is_file():
        return
    if not folder.exists():
        raise FileNotFoundError(2, "no such folder; expected an evaluation folder", path)
    raise ValueError(
        f"{path}: no metrics.json here; expected the output_dir of retargetjax-evaluate "
        f"(run `retargetjax-evaluate input={path} output_dir={folder.name}_eval` first, then "
        f"compare {folder.name}_eval)"
    )


def _compare(argv: Sequence[str]) -> int:
    from ..evaluation import compare_reports

    args = parse_key_values(
        argv,
        {"a": str, "b": str, "output_dir": str, "a_name": str, "b_name": str},
        ["a", "b"],
        _usage("retargetjax-compare"),
    )
    a_name = args.get("a_name") or Path(args["a"]).name or "a"
    b_name = args.get("b_name") or Path(args["b"]).name or "b"
    if a_name == b_name:
        a_name, b_name = f"a:{a_name}", f"b:{b_name}"
    _check_evaluation_folder(args["a"])
    _check_evaluation_folder(args["b"])
    result = compare_reports(
        args["a"], args["b"], args.get("output_dir"), a_name=a_name, b_name=b_name
    )
    print(result.markdown(a_name, b_name))
    if result.files:
        print(f"wrote {', '.join(result.files.values())}")
    return 0


def _robot_for(input_path: str, robot: str | None, fps: float | None) -> Any:
    """The robot model an output was made with (its recorded file or bundled name, checked
    against ``robot=``), or ``robot=`` loaded; ``None`` when neither names one."""
    from ..io import RobotMotion
    from ..robot import RobotFileError, load_robot, robot_for_output

    try:
        probe = RobotMotion.load(input_path, fps=fps) if Path(input_path).is_file() else None
    except Exception:  # a file that needs robot= to be read: use robot= alone
        probe = None
    try:
        if probe is not None:
            return robot_for_output(probe.metadata, robot, where=input_path)
        if robot is not None:
            return load_robot(robot, verbose=False)
    except (RobotFileError, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}") from None
    return None


def _load_clip(args: dict[str, Any]) -> tuple[Any, Any, Any]:
    """The clip, its robot model and its human reference (or ``None``)."""
    from ..evaluation import human_reference, solved_keypoint_override
    from ..io import RobotMotion

    robot = _robot_for(args["input"], args.get("robot"), args.get("fps"))
    if robot is None:
        raise SystemExit(f"error: {args['input']} does not name its robot; pass robot=NAME")
    motion = RobotMotion.load(args["input"], robot=robot, fps=args.get("fps"))
    source = args.get("motion") or motion.metadata.get("source")
    reference = None
    if source and Path(str(source)).is_file():
        reference = human_reference(
            source,
            robot,
            motion.num_frames,
            motion.fps,
            keypoint_override=solved_keypoint_override(motion.metadata),
        )
    return motion, robot, reference


#: Default video size (pixels): the figure keeps its 8 in width and the dpi follows.
DEFAULT_RENDER_SIZE = (1280, 672)


def render_main(argv: Sequence[str] | None = None) -> int:
    """``retargetjax-render``: an MP4 or GIF of the robot beside the human skeleton."""
    quiet_logs()
    with user_errors():
        return _render(arguments_without_verbose(argv))


def _render(argv: Sequence[str]) -> int:
    from ..evaluation import render_motion
    from ..io import check_output_path

    args = parse_key_values(
        argv,
        {
            "input": str,
            "output": str,
            "robot": str,
            "motion": str,
            "fps": float,
            "stride": int,
            "max_frames": int,
            "view_radius_m": float,
            "dpi": int,
            "size": _size,
        },
        ["input", "output"],
        _usage("retargetjax-render"),
    )
    check_output_path(args["output"], (".mp4", ".gif"))
    width, height = args.get("size") or DEFAULT_RENDER_SIZE
    dpi = args.get("dpi") or width / 8.0
    motion, robot, reference = _load_clip(args)
    stride = args.get("stride") or 1
    frames = len(range(0, motion.num_frames, stride))
    if args.get("max_frames"):
        frames = min(frames, args["max_frames"])
    status = Status(f"rendering {frames} frames ({width}x{height}) to {args['output']}")
    with status:
        result = render_motion(
            motion,
            robot,
            args["output"],
            human_keypoints=None if reference is None else reference.targets,
            human_keypoint_names=None if reference is None else tuple(robot.keypoint_names),
            stride=stride,
            max_frames=args.get("max_frames"),
            view_radius_m=args.get("view_radius_m") or 1.0,
            size_in=(8.0, height / dpi) if not args.get("dpi") else (width / dpi, height / dpi),
            dpi=round(dpi),
        )
    print(f"wrote {result.path}: {result.frames} frames at {result.fps:g} fps")
    return 0


def plot_main(argv: Sequence[str] | None = None) -> int:
    """``retargetjax-plot``: the diagnostic PNG of one clip."""
    quiet_logs()
    with user_errors():
        return _plot(arguments_without_verbose(argv))


def _plot(argv: Sequence[str]) -> int:
    from ..evaluation import evaluate_motion, plot_clip
    from ..io import check_output_path

    args = parse_key_values(
        argv,
        {"input": str, "output": str, "robot": str, "motion": str, "fps": float},
        ["input", "output"],
        _usage("retargetjax-plot"),
    )
    check_output_path(args["output"], (".png", ".pdf", ".svg", ".jpg"))
    motion, robot, reference = _load_clip(args)
    evaluation = evaluate_motion(
        motion,
        robot,
        targets=None if reference is None else reference.targets,
        target_weight=None if reference is None else reference.target_weight,
        contact=None if reference is None else reference.contact,
    )
    path = plot_clip(
        evaluation, robot, args["output"], fps=motion.fps, title=Path(args["input"]).name
    )
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
