"""Settings of one retargeting run: cost weights and solver settings (pydantic, from Hydra).

The Hydra groups ``configs/costs/`` and ``configs/solver/`` hold the same fields; a composed
Hydra config converts with ``RetargetConfig.model_validate(OmegaConf.to_container(cfg))``.
Weights are traced arrays inside the solver, so sweeping a weight does not recompile;
iteration counts and window sizes are static (they set shapes and loop lengths).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["CostWeights", "RetargetConfig", "SolverConfig"]


class CostWeights(BaseModel):
    """Weights of the cost terms (see :mod:`retargetjax.retarget._costs` for their math).

    Each residual is in metres (positions), metres per frame (slip) or radians (joint
    terms) at the 30 fps reference rate, so a weight of 1 on a 1 cm error costs 1e-4.
    """

    model_config = ConfigDict(extra="forbid")

    keypoint: float = Field(1.0, ge=0, description="keypoint position tracking")
    end_effector: float = Field(1.5, ge=0, description="extra factor on hands and feet")
    orientation: float = Field(0.1, ge=0, description="pelvis/torso frame tracking")
    contact: float = Field(4.0, ge=0, description="planted sole parts at floor height, feet held")
    slip: float = Field(3000.0, ge=0, description="no horizontal motion of planted sole points")
    part_contact: float = Field(
        4.0, ge=0, description="planted hands, elbows, knees, pelvis, back, head on the floor"
    )
    ground: float = Field(100.0, ge=0, description="no collision primitive below the floor")
    self_collision: float = Field(200.0, ge=0, description="no interpenetration of primitives")
    smooth: float = Field(1.0, ge=0, description="joint/root velocity and acceleration")
    velocity_limit: float = Field(1.0, ge=0, description="joint speed above the robot's limit")
    default_pose: float = Field(0.02, ge=0, description="pull towards the standing pose")


class SolverConfig(BaseModel):
    """How the optimisation runs."""

    model_config = ConfigDict(extra="forbid")

    fps: float = Field(30.0, gt=0, description="rate the clip is solved at (Hz)")
    init_iterations: int = Field(6, ge=0, description="per-frame Levenberg-Marquardt steps")
    init_tolerance: float = Field(
        0.0,
        ge=0,
        lt=1,
        description=(
            "per-frame stage, frames solved from the standing start: a chunk of 8 frames"
            " runs at least init_iterations steps and keeps stepping (to 30) while a step"
            " still lowers its cost by more than this fraction; 0: exactly init_iterations."
            " 0.05: a held-out legs-only robot (the Berkeley Humanoid) that walked on its"
            " toes after 6 steps walks flat (foot slide max 10.5 -> 1.6 mm); clips"
            " sharing a batch row then start on multiples of 8 frames"
        ),
    )
    init_stride: int = Field(
        1,
        ge=1,
        le=4,
        description=(
            "solve every k-th frame in the per-frame stage and interpolate the rest, on clips"
            " with only the feet on the floor (floor-contact clips always solve every"
            " frame); 2: the one-minute walk onto G1 28 % faster at the same final cost, but"
            " on fast clips the refinement does not always recover (G1 mixamo arm-leg"
            " contact on 2.9 % of frames)"
        ),
    )
    warm_start: bool = Field(
        False,
        description=(
            "per-frame stage: start each frame from its neighbour's solution where that"
            " fits better than the standing start (always on for floor-contact clips: from"
            " standing, the H1's kneel tracks 21.5 cm after 6 steps, warm 13.8 cm)"
        ),
    )
    iterations: int = Field(6, ge=0, description="whole-window refinement steps")
    still_feet_effort: float = Field(
        1.0,
        ge=1,
        le=10,
        description=(
            "refinement (gauss_newton): each clip's last continuation phase (the floor"
            " near-hard) goes on past its share of `iterations`, to this multiple of"
            " `iterations` in all, until no sole point touching the floor under a planted"
            " foot moves more than still_step_mm per 30 fps frame; 1: exactly"
            " `iterations`. Clips in which other body parts touch the floor run with"
            " floor_contact_effort here"
        ),
    )
    still_step_mm: float = Field(
        6.0,
        gt=0,
        description=(
            "the step (mm per 30 fps frame) below which a sole point touching the floor"
            " under a planted foot counts as still (still_feet_effort), with room below the"
            " 1 cm a tracking policy would learn to skate on: at 6 the floor-contact clips"
            " of the quality table slide at most 7.1 mm (8: 9.7 mm), while at 5 a window"
            " of a long squat could step to the effort's cap without getting there (twice"
            " the solve time)"
        ),
    )
    optimizer: str = Field(
        "gauss_newton",
        pattern="^(gauss_newton|adam|lbfgs)$",
        description="refinement: gauss_newton (LM with CG), or optax adam / lbfgs",
    )
    cg_iterations: int = Field(16, ge=1, description="conjugate-gradient steps per GN step")
    learning_rate: float = Field(3e-3, gt=0, description="Adam peak step size")
    window: int = Field(256, ge=8, description="frames per window (the fixed solve shape)")
    overlap: int = Field(32, ge=0, description="frames shared by neighbouring windows")
    contact_lock: bool = Field(True, description="hold foot targets still during contact")
    damping: float = Field(1e-3, gt=0, description="Levenberg-Marquardt damping (init)")
    max_pairs: int = Field(32, ge=1, description="closest collision pairs checked per window")
    floor_contact_effort: int = Field(
        5,
        ge=1,
        le=10,
        description=(
            "clips in which the human's hands, elbows, knees, pelvis, back or head touch"
            " the floor (crawls, kneels, get-ups) run twice the refinement's iterations,"
            " then on until their feet are still (still_feet_effort), to this many times"
            " the iterations in all; 1: the same steps as a walk"
        ),
    )

    def for_clips(self, floor_contact: bool) -> SolverConfig:
        """The settings a solve runs with: when ``floor_contact`` (some clip of the solve has
        a body part other than the feet on the floor), twice the ``iterations`` and a
        ``still_feet_effort`` of at least half ``floor_contact_effort`` (so at most
        ``floor_contact_effort`` times the configured iterations in all; an effort of 1:
        unchanged; optax's optimisers, which have no per-clip stop: ``iterations`` times
        ``floor_contact_effort``), ``init_stride`` 1 and
        ``warm_start`` (whose cold-started chunks run their 30 steps, so
        ``init_tolerance`` 0); else these settings unchanged.

        The per-frame stage keeps its steps: it starts each frame from its neighbour's
        solution (:func:`~retargetjax.retarget._init_stage.init_frames`), so a kneel converges
        there as fast as a walk."""
        if not floor_contact:
            return self
        effort = self.floor_contact_effort
        if self.optimizer == "gauss_newton":
            # at least twice the steps (tracking: the G1 get-up 8.0 cm after 6, 7.7 after
            # 12, 7.5 after 30), then on until the feet are still, to effort x in all
            base = min(2, effort)
            update: dict = {
                "iterations": base * self.iterations,
                "still_feet_effort": max(self.still_feet_effort, effort / base),
            }
        else:
            update = {"iterations": self.floor_contact_effort * self.iterations}
        if self.init_iterations > 0:
            update.update(init_stride=1, warm_start=True, init_tolerance=0.0)
        if all(getattr(self, name) == value for name, value in update.items()):
            return self
        return self.model_copy(update=update)


class RetargetConfig(BaseModel):
    """Everything :func:`retargetjax.retarget` needs besides the motion and the robot."""

    model_config = ConfigDict(extra="forbid")

    costs: CostWeights = Field(default_factory=CostWeights)
    solver: SolverConfig = Field(default_factory=SolverConfig)
