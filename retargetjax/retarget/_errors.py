"""The retarget package's error: a clip that cannot be retargeted."""

__all__ = ["RetargetError"]


class RetargetError(ValueError):
    """A clip that cannot be retargeted (missing keypoints, nothing valid to track)."""
