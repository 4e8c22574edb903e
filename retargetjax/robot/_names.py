"""The words of a body's or joint's name, and the side (left/right) they name.

``Hip_Pitch_Left`` → {hip, pitch, left}; ``lHipRoll`` → {l, hip, roll}. A name is on the left
when its words hold ``left`` or ``l`` or it starts with ``l_`` or ends with ``_l`` (right
alike). A body's side is its own name's, else that of the first joint moving it that names
one. The name rules (:mod:`._keypoints`) and the facing's tie-break (:mod:`._topology_facing`)
read sides this way.
"""

from __future__ import annotations

import re

from ._description import RobotDescription

__all__ = ["body_sides", "body_words", "name_side", "name_words"]


def name_words(name: str) -> set[str]:
    """Lower-case words of a name, split at non-letters, digits runs and camel case."""
    spaced = re.sub(r"([a-z])([A-Z])", r"\1 \2", name)
    return {w.lower() for w in re.split(r"[^A-Za-z]+", spaced) if w}


def name_side(words: set[str], name: str) -> str | None:
    """``"left"``, ``"right"`` or ``None`` for a name and its words."""
    low = name.lower()
    if "left" in words or "l" in words or low.startswith("l_") or low.endswith("_l"):
        return "left"
    if "right" in words or "r" in words or low.startswith("r_") or low.endswith("_r"):
        return "right"
    return None


def body_words(desc: RobotDescription) -> tuple[list[set[str]], list[str | None]]:
    """Per body: the words of its name and of the joints moving it, and its side."""
    words, sides = [], []
    for body in desc.bodies:
        w = name_words(body.name)
        side = name_side(w, body.name)
        for joint in body.joints:
            jw = name_words(joint.name)
            w |= jw
            side = side or name_side(jw, joint.name)
        words.append(w)
        sides.append(side)
    return words, sides


def body_sides(desc: RobotDescription) -> list[str | None]:
    """Per body: ``"left"``, ``"right"`` or ``None`` from its name (else its joints')."""
    return body_words(desc)[1]
