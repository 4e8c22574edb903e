"""The optimisation: per-frame Gauss-Newton initialisation, then whole-window refinement.

Both stages run inside one ``jax.jit`` on fixed shapes ``(num_windows, window)``:

1. **Initialisation** (vmapped over every frame of every window): Levenberg-Marquardt on the
   per-frame residuals ``r(x)`` (keypoints, built frames, sole height in contact, floor,
   standing-pose pull). With ``J = ∂r/∂δ`` at the current ``x`` (``δ`` = root translation,
   root rotation vector in the root frame, joint angles) each step solves
   ``(JᵀJ + λ diag(JᵀJ) + μI) δ = −Jᵀr``, keeps it if ``|r|²`` decreases (``λ ← λ/3``) and
   rejects it otherwise (``λ ← 10λ``); joint angles are clipped into their limits.
2. **Refinement** (vmapped over windows): optax (Adam with a cosine schedule, or L-BFGS) on
   the full window cost ``Σ_t m_t |r(x_t)|² + w_sc·self-collision + w_c·slip +
   w_s·smoothness + w_v·velocity limits``, divided by the number of valid frames; joint
   angles are projected into their limits after every step, so limits are never violated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple

import jax
import jax.numpy as jnp
import optax

from ..geometry import quat_exp, quat_mul, quat_normalize, segment_segment_distance
from ..robot import collision_capsules_world, forward_kinematics, keypoint_positions
from ..types import Array
from ._costs import (
    contact_height_residual,
    default_pose_residual,
    ground_residual,
    keypoint_residual,
    orientation_residual,
    self_collision_cost,
    slip_cost,
    smoothness_cost,
    velocity_limit_cost,
)

_PER_FRAME_KEYS = ("target_keypoints", "keypoint_weight", "target_frames", "sole_contact")

WEIGHT_NAMES = (
    "keypoint",
    "orientation",
    "contact",
    "ground",
    "self_collision",
    "smooth",
    "velocity_limit",
    "default_pose",
    "slip",
)


class WindowData(NamedTuple):
    """Targets of a stack of windows, every array with leading shape ``(num_windows, W)``
    except the per-window weights."""

    target_keypoints: Array  # (n, W, K, 3)
    keypoint_weight: Array  # (n, W, K) per frame
    target_frames: Array  # (n, W, F, 3, 3)
    frame_weight: Array  # (n, F)
    sole_contact: Array  # (n, W, 2, P)
    contact: Array  # (n, W, 2) human foot contact
    mask: Array  # (n, W)
    root_pos: Array  # (n, W, 3) initial guess
    root_quat: Array  # (n, W, 4)
    joint_pos: Array  # (n, W, N)


class FrameState(NamedTuple):
    root_pos: Array
    root_quat: Array
    joint_pos: Array


@dataclass(frozen=True)
class SolverStatic:
    """What fixes the compiled program (hashable; part of the jit cache key)."""

    frame_keypoints: tuple[tuple[int, int, int, int], ...]
    init_iterations: int
    iterations: int
    optimizer: str
    learning_rate: float
    damping: float
    max_pairs: int = 32


def sole_points_world(robot: Any, fk: Any) -> Array:
    """World positions (..., 2, P, 3) of the sole points of the left and right foot."""
    feet = jnp.asarray(robot.foot_body)
    pos = fk.pos[..., feet, :]  # (..., 2, 3)
    rot = fk.rot[..., feet, :, :]  # (..., 2, 3, 3)
    return pos[..., None, :] + jnp.einsum("...fij,fpj->...fpi", rot, robot.sole_points)


def _retract(x: FrameState, delta: Array) -> FrameState:
    return FrameState(
        x.root_pos + delta[:3],
        quat_normalize(quat_mul(x.root_quat, quat_exp(delta[3:6]))),
        x.joint_pos + delta[6:],
    )


def _kinematics(robot: Any, x: FrameState):
    fk = forward_kinematics(robot, x.root_pos, x.root_quat, x.joint_pos)
    kp = keypoint_positions(robot, fk)
    soles = sole_points_world(robot, fk)
    cap_a, cap_b = collision_capsules_world(robot, fk)
    return kp, soles, cap_a, cap_b


def _residuals(
    robot: Any, kin: tuple, joint_pos: Array, frame: dict, w: Array, static: SolverStatic
) -> Array:
    """Per-frame residuals from one frame's kinematics ``(kp, soles, cap_a, cap_b)``."""
    kp, soles, cap_a, cap_b = kin
    return jnp.concatenate(
        [
            jnp.sqrt(w[0])
            * keypoint_residual(kp, frame["target_keypoints"], frame["keypoint_weight"]),
            jnp.sqrt(w[1])
            * orientation_residual(
                kp, frame["target_frames"], frame["frame_weight"], static.frame_keypoints
            ),
            jnp.sqrt(w[2]) * contact_height_residual(soles, frame["sole_contact"]),
            jnp.sqrt(w[3]) * ground_residual(soles, cap_a, cap_b, robot.capsule_radius),
            jnp.sqrt(w[7]) * default_pose_residual(joint_pos, robot.default_joint_pos),
        ]
    )


def frame_residuals(
    robot: Any, x: FrameState, frame: dict, w: Array, static: SolverStatic
) -> Array:
    """All per-frame residuals of one frame, stacked and weighted (see ``_costs``)."""
    return _residuals(robot, _kinematics(robot, x), x.joint_pos, frame, w, static)


def _clip_joints(robot: Any, q: Array) -> Array:
    return jnp.clip(q, robot.joint_lower, robot.joint_upper)


def _init_frame(
    robot: Any, x: FrameState, frame: dict, w: Array, static: SolverStatic
) -> FrameState:
    """Levenberg-Marquardt on one frame's residuals (module docstring, stage 1)."""
    n = 6 + x.joint_pos.shape[-1]
    zero = jnp.zeros(n, x.root_pos.dtype)

    def res(delta, x):
        return frame_residuals(robot, _retract(x, delta), frame, w, static)

    def step(carry, _):
        x, lam, cost = carry
        r = res(zero, x)
        J = jax.jacfwd(res)(zero, x)
        JtJ = J.T @ J
        g = J.T @ r
        A = JtJ + lam * jnp.diag(jnp.diag(JtJ)) + 1e-6 * jnp.eye(n, dtype=J.dtype)
        delta = -jnp.linalg.solve(A, g)
        delta = jnp.clip(delta, -0.5, 0.5)
        x_new = _retract(x, delta)
        x_new = x_new._replace(joint_pos=_clip_joints(robot, x_new.joint_pos))
        r_new = res(zero, x_new)
        cost_new = jnp.sum(r_new * r_new)
        accept = cost_new < cost
        x = jax.tree_util.tree_map(lambda a, b: jnp.where(accept, a, b), x_new, x)
        lam = jnp.where(accept, lam / 3.0, lam * 10.0)
        cost = jnp.where(accept, cost_new, cost)
        return (x, lam, cost), None

    r0 = res(zero, x)
    init = (x, jnp.asarray(static.damping, x.root_pos.dtype), jnp.sum(r0 * r0))
    (x, _, _), _ = jax.lax.scan(step, init, None, length=static.init_iterations)
    return x


def window_cost(
    robot: Any,
    z: dict,
    base_quat: Array,
    win: dict,
    w: Array,
    fps: Array,
    static: SolverStatic,
    pairs: Array,
) -> Array:
    """Full cost of one window (module docstring, stage 2), divided by its valid frames."""
    quat = quat_normalize(quat_mul(base_quat, quat_exp(z["root_rot"])))
    x = FrameState(z["root_pos"], quat, z["joint_pos"])
    kp, soles, cap_a, cap_b = jax.vmap(partial(_kinematics, robot))(x)
    mask = win["mask"]
    per_frame_data = {k: win[k] for k in _PER_FRAME_KEYS}
    frame_weight = win["frame_weight"]

    def per_frame(kin, q, frame):
        r = _residuals(robot, kin, q, {**frame, "frame_weight": frame_weight}, w, static)
        return jnp.sum(r * r)

    kin = (kp, soles, cap_a, cap_b)
    per = jax.vmap(per_frame)(kin, x.joint_pos, per_frame_data)
    total = jnp.sum(mask * per)
    total += w[4] * jnp.sum(mask * self_collision_cost(cap_a, cap_b, robot.capsule_radius, pairs))
    total += w[8] * slip_cost(soles, win["sole_contact"], mask, win["contact"])
    total += w[5] * smoothness_cost(x.joint_pos, x.root_pos, x.root_quat, mask, fps)
    total += w[6] * velocity_limit_cost(x.joint_pos, robot.velocity_limit, mask, fps)
    return total / jnp.maximum(jnp.sum(mask), 1.0)


def active_pairs(robot: Any, x: FrameState, mask: Array, max_pairs: int) -> Array:
    """The ``max_pairs`` collision pairs that come closest within a window, at its start.

    ``clearance_ij = min_t d_t(seg_i, seg_j) − ρ_i − ρ_j`` over the window's valid frames;
    the pairs with the smallest clearance are kept for the refinement. The refinement moves
    the robot by centimetres, so a pair that starts metres apart cannot start colliding,
    while pruning cuts the self-collision work by ``P / max_pairs`` (390 → 32 on the G1).
    """
    pairs = jnp.asarray(robot.collision_pairs)
    if pairs.shape[0] <= max_pairs:
        return pairs
    _, _, cap_a, cap_b = jax.vmap(partial(_kinematics, robot))(x)
    i, j = pairs[:, 0], pairs[:, 1]
    d = segment_segment_distance(cap_a[:, i], cap_b[:, i], cap_a[:, j], cap_b[:, j])
    clearance = d - robot.capsule_radius[i] - robot.capsule_radius[j]
    clearance = jnp.min(jnp.where(mask[:, None] > 0, clearance, jnp.inf), axis=0)
    _, top = jax.lax.top_k(-jax.lax.stop_gradient(clearance), max_pairs)
    return pairs[top]


def _refine_window(
    robot: Any, x0: FrameState, win: dict, w: Array, fps: Array, static: SolverStatic
):
    z0 = {
        "root_pos": x0.root_pos,
        "root_rot": jnp.zeros_like(x0.root_pos),
        "joint_pos": x0.joint_pos,
    }
    pairs = active_pairs(robot, x0, win["mask"], static.max_pairs)

    def f(z):
        return window_cost(robot, z, x0.root_quat, win, w, fps, static, pairs)

    def project(z):
        return {**z, "joint_pos": _clip_joints(robot, z["joint_pos"])}

    if static.iterations == 0:
        return x0, f(z0)
    if static.optimizer == "lbfgs":
        opt = optax.lbfgs()
        vg = optax.value_and_grad_from_state(f)

        def step(carry, _):
            z, state = carry
            value, grad = vg(z, state=state)
            updates, state = opt.update(grad, state, z, value=value, grad=grad, value_fn=f)
            z = project(optax.apply_updates(z, updates))
            return (z, state), value
    else:
        schedule = optax.cosine_decay_schedule(static.learning_rate, static.iterations, alpha=0.05)
        opt = optax.adam(schedule)
        vg = jax.value_and_grad(f)

        def step(carry, _):
            z, state = carry
            value, grad = vg(z)
            updates, state = opt.update(grad, state, z)
            z = project(optax.apply_updates(z, updates))
            return (z, state), value

    (z, _), _ = jax.lax.scan(step, (z0, opt.init(z0)), None, length=static.iterations)
    quat = quat_normalize(quat_mul(x0.root_quat, quat_exp(z["root_rot"])))
    return FrameState(z["root_pos"], quat, z["joint_pos"]), f(z)


@partial(jax.jit, static_argnames=("static",))
def solve_windows(robot: Any, data: WindowData, weights: Array, fps: Array, static: SolverStatic):
    """Solve a stack of windows; returns ``(FrameState with (n, W, ...) arrays, loss (n,))``.

    ``weights`` is the vector of :data:`WEIGHT_NAMES`; ``fps`` the solve rate (both traced,
    so sweeping them does not recompile).
    """
    n, W = data.mask.shape
    x0 = FrameState(data.root_pos, data.root_quat, data.joint_pos)
    x0 = x0._replace(joint_pos=_clip_joints(robot, x0.joint_pos))
    frame = {
        "target_keypoints": data.target_keypoints,
        "keypoint_weight": data.keypoint_weight,
        "target_frames": data.target_frames,
        "frame_weight": jnp.broadcast_to(
            data.frame_weight[:, None], (n, W, *data.frame_weight.shape[1:])
        ),
        "sole_contact": data.sole_contact,
    }
    flat = jax.tree_util.tree_map(lambda a: a.reshape((n * W, *a.shape[2:])), (x0, frame))
    if static.init_iterations > 0:
        x_init = jax.vmap(lambda x, fr: _init_frame(robot, x, fr, weights, static))(*flat)
    else:
        x_init = flat[0]
    x_init = jax.tree_util.tree_map(lambda a: a.reshape((n, W, *a.shape[1:])), x_init)
    win = {
        "target_keypoints": data.target_keypoints,
        "keypoint_weight": data.keypoint_weight,
        "target_frames": data.target_frames,
        "frame_weight": data.frame_weight,
        "sole_contact": data.sole_contact,
        "contact": data.contact,
        "mask": data.mask,
    }
    return jax.vmap(lambda x, wn: _refine_window(robot, x, wn, weights, fps, static))(x_init, win)
