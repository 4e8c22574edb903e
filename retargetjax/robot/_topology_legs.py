"""Legs and feet of a robot's topology: what counts as a leg (:func:`check_legs`, also for
feet found by names or a keypoints YAML), a foot welded to the shin (:func:`_welded_foot`)
and a sole for feet that have no collision shapes."""

from __future__ import annotations

import numpy as np

from ._description import RobotDescription, RobotFileError
from ._topology_tree import _lowest, _moving_between, _Tree, rest_body_poses

__all__ = ["check_legs"]


#: A leg is a chain of at least this many links (hip, knee, ankle; the ankle may be a foot
#: welded to the shin, see :func:`_welded_foot`; the others move) …
_LEG_MIN_LINKS = 3
#: … whose first moving link stands at least this fraction of the robot's height above its
#: lowest one (a human's hip-to-ankle drop is about 45 %, the robots seen 47-89 %).
_LEG_MIN_DROP = 0.25
#: A foot welded to the shin hangs below the knee by at least this fraction of the drop from
#: the top of the leg to the knee (a shin's length; a sole frame under an ankle is far less).
_WELDED_FOOT_DROP = 0.5
#: … and reaches the bottom of the leg, within this (m).
_WELDED_FOOT_BOTTOM = 0.02


def _welded_foot(desc, tree: _Tree, moving, rots, poss: np.ndarray, mov: list[int]):
    """The foot of a leg with no ankle joint (the classic MuJoCo humanoid: hip and knee move,
    the foot is welded to the shin), else ``None``.

    ``mov`` are the leg's moving links, top first; the last is the knee when nothing moves
    below it. The foot is the first body down from it (through no joint) that carries a
    collision shape, lies at least :data:`_WELDED_FOOT_DROP` times the top-of-leg-to-knee
    drop below the knee, and reaches the leg's lowest point (within
    :data:`_WELDED_FOOT_BOTTOM`). A leg with a moving link below its last one is not read
    (its ankle moves), and a leg with real ankles never has a body that far below the ankle.
    """
    if len(mov) < 2:
        return None
    knee = mov[-1]
    below = [n for n in tree.subtree(knee) if n != knee]
    thigh = float(poss[mov[0]][2] - poss[knee][2])
    if not below or any(moving[n] for n in below) or thigh <= 0.0:
        return None
    low = {n: _lowest(desc, rots, poss, n) for n in [knee, *below]}
    bottom = min(low.values())
    feet = [
        n
        for n in below
        if desc.bodies[n].geoms
        and poss[knee][2] - poss[n][2] >= _WELDED_FOOT_DROP * thigh
        and min(low[m] for m in tree.subtree(n)) <= bottom + _WELDED_FOOT_BOTTOM
    ]
    return min(feet, key=lambda n: (len(tree.ancestors(n)), poss[n][2]), default=None)


def _leg_shape(desc, tree: _Tree, moving: list[bool], rots, poss: np.ndarray, root: int):
    """(links, drop in m) of the chain from ``root`` down to its lowest moving link, or to a
    foot welded below it (:func:`_welded_foot`, counted as a link)."""
    sub = [n for n in tree.subtree(root) if moving[n]]
    if not sub:
        return 0, 0.0
    lowest = min(sub, key=lambda n: (round(poss[n][2], 3), -len(tree.ancestors(n))))
    mov = [n for n in tree.path(root, lowest) if moving[n]]
    foot = _welded_foot(desc, tree, moving, rots, poss, mov)
    if foot is not None:
        return len(mov) + 1, float(poss[mov[0]][2] - poss[foot][2])
    return len(mov), float(poss[mov[0]][2] - poss[lowest][2])


def _is_leg(shape: tuple[int, float], height: float) -> bool:
    links, drop = shape
    return links >= _LEG_MIN_LINKS and drop >= _LEG_MIN_DROP * height


def _trunk_below(desc, tree: _Tree, moving, poss: np.ndarray, pelvis: int, height: float):
    """A body that joints move the pelvis from and that lies well below it, else ``None``.

    Legs hang from the bottom of the trunk: the file's root is the pelvis, a body welded to
    it, or a trunk above it. Chains that hang from a body a spine lifts above the root (an
    upper body's arms, reaching below its waist) are no legs; they are told by the trunk
    going on, through a moving joint, more than 5 % of the robot's height below their
    branch body. Returns ``(body index, joint name)``.
    """
    child = pelvis
    joint = None
    for a in tree.ancestors(pelvis)[1:]:
        if joint is None and moving[child]:
            joint = desc.bodies[child].joints[0].name
        if joint is not None and poss[a][2] < poss[pelvis][2] - 0.05 * height:
            return a, joint
        child = a
    return None


def _up_hint(poss: np.ndarray) -> str:
    """A clause for the no-legs errors when the tree lies flat (not z-up) in the file pose.

    Bodies spanning less than half as much along z as along x or y are a tree drawn with
    another up axis (dm_control's CMU walker is y-up, stood up by code, not by its root's
    orientation); the axis named is the horizontal one the bodies reach farther along on
    one side than the other (head and feet, not the arms' span). Else ``""``.
    """
    lo, hi = poss.min(axis=0), poss.max(axis=0)
    span = hi - lo
    if span[2] >= 0.5 * max(span[0], span[1]):
        return ""
    axis = "xy"[int(np.argmax(np.abs(hi[:2] + lo[:2])))]
    return (
        f"; the tree lies along {axis} in the file pose ({100 * span[2]:.0f} cm along z): "
        "expected a z-up robot (a root body's quat/euler that stands it up is followed)"
    )


def _trunk_error(where, desc, poss, pelvis: int, below: tuple[int, str]) -> RobotFileError:
    body, joint = below
    return RobotFileError(
        f"{where}: the chains going down from body {desc.bodies[pelvis].name!r} hang from a "
        f"trunk that goes on below it (joint {joint!r}, body {desc.bodies[body].name!r} "
        f"{100 * (poss[pelvis][2] - poss[body][2]):.0f} cm lower): they are arms, not legs; "
        "expected a humanoid with two legs going down from the bottom of its trunk"
    )


def check_legs(desc: RobotDescription, pelvis: str, feet: tuple[str, str]) -> None:
    """Raise :class:`RobotFileError` unless both feet hang from ``pelvis`` by a leg.

    For feet found by name rules or a keypoints YAML: the same tests as the topology's (at
    least three links from the pelvis down to the foot, the foot counted when it is welded to
    the shin (:func:`_welded_foot`), the others moving, reaching at least a quarter of the
    robot's height down; no trunk going on below the pelvis through a joint, see
    :func:`_trunk_below`). One line naming the file, the leg and what was expected.
    """
    rots, poss = rest_body_poses(desc)
    names = [b.name for b in desc.bodies]
    tree = _Tree([b.parent for b in desc.bodies])
    moving = [bool(b.joints) and b.parent >= 0 for b in desc.bodies]
    low_z = [_lowest(desc, rots, poss, i) for i in range(len(names))]
    height = max(float(poss[:, 2].max()) - float(min(low_z)), 1e-6)
    if pelvis in names:
        below = _trunk_below(desc, tree, moving, poss, names.index(pelvis), height)
        if below is not None:
            raise _trunk_error(desc.path, desc, poss, names.index(pelvis), below)
    for side, foot in zip(("left", "right"), feet):
        if pelvis not in names or foot not in names:
            continue
        top, i = names.index(pelvis), names.index(foot)
        if top not in tree.ancestors(i):
            raise RobotFileError(
                f"{desc.path}: {side} foot {foot!r} does not hang from the pelvis body "
                f"{pelvis!r}; expected a leg going down from the pelvis to each foot"
            )
        mov = [n for n in tree.path(top, i)[1:] if moving[n]]
        drop = float(poss[mov[0]][2] - poss[i][2]) if mov else 0.0
        welded = not moving[i] and _welded_foot(desc, tree, moving, rots, poss, mov) == i
        if not _is_leg((len(mov) + welded, drop), height):
            raise RobotFileError(
                f"{desc.path}: the {side} leg ({pelvis} to {foot}) has {len(mov)} moving "
                f"link{'s' if len(mov) != 1 else ''} reaching {100 * drop:.0f} cm down; "
                f"expected a leg: at least {_LEG_MIN_LINKS} moving links (hip, knee, ankle), "
                "or a hip and a knee with the foot welded a shin's length below it, "
                f"reaching at least {100 * _LEG_MIN_DROP * height:.0f} cm down "
                f"({_LEG_MIN_DROP:.0%} of the robot's height)"
            )


def _sole_points(desc, tree, rots, poss, feet) -> np.ndarray | None:
    """Sole from sites and welded frames below a foot that has no collision shapes.

    A foot whose sole is only a frame or a site (``left_sole``) gets a 20 × 8 cm sole at
    that frame's height, around it; ``None`` when every foot has shapes (or nothing below
    it), so the model builder measures the shapes.
    """
    out = []
    any_frame = False
    for foot in feet:
        welded = [
            n for n in tree.subtree(foot) if n == foot or not _moving_between(desc, tree, foot, n)
        ]
        if any(g.kind != "mesh" for n in welded for g in desc.bodies[n].geoms):
            out.append(None)
            continue
        pts = [poss[n] for n in welded if n != foot]
        pts += [poss[n] + rots[n] @ s for n in welded for s in desc.bodies[n].sites.values()]
        pts = [p for p in pts if p[2] < poss[foot][2] - 0.005]
        if not pts:
            out.append(None)
            continue
        any_frame = True
        pts_a = np.array(pts) - poss[foot]
        z = pts_a[:, 2].min()
        cx, cy = pts_a[:, 0].mean(), pts_a[:, 1].mean()
        x_hi, x_lo = max(pts_a[:, 0].max(), cx + 0.12), min(pts_a[:, 0].min(), cx - 0.08)
        y_hi, y_lo = max(pts_a[:, 1].max(), cy + 0.04), min(pts_a[:, 1].min(), cy - 0.04)
        world = np.array([[x_hi, y_hi, z], [x_hi, y_lo, z], [x_lo, y_hi, z], [x_lo, y_lo, z]])
        out.append(world @ rots[foot])
    if not any_frame:
        return None
    default = np.array(
        [[0.12, 0.04, -0.05], [0.12, -0.04, -0.05], [-0.08, 0.04, -0.05], [-0.08, -0.04, -0.05]]
    )
    return np.stack([o if o is not None else default @ rots[f] for o, f in zip(out, feet)])
