"""Re-export of :mod:`retargetjax.robot._body_groups` (the solver needs it too, and
``retarget`` does not import ``evaluation``)."""

from ..robot._body_groups import (
    LIMB_KINDS,
    PAIR_GROUPS,
    body_limbs,
    capsule_limbs,
    foot_capsules,
    pair_group,
    pair_groups,
    part_capsules,
)

__all__ = [
    "LIMB_KINDS",
    "PAIR_GROUPS",
    "body_limbs",
    "capsule_limbs",
    "foot_capsules",
    "pair_group",
    "pair_groups",
    "part_capsules",
]
