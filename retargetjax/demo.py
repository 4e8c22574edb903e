"""``make demo``: retarget the bundled sample walk onto the bundled Unitree G1.

    python -m retargetjax.demo [output_dir]

Writes ``<output_dir>/<clip>_unitree_g1.npz`` (default ``outputs/demo``) and its metrics
beside it, and prints where they went.
"""

from __future__ import annotations

import sys
from pathlib import Path

from hydra import compose, initialize_config_dir

from .apps import configs_dir
from .apps.retarget import run_retarget

#: The bundled sample clip (MIT licensed, see its LICENSE beside it).
SAMPLE_CLIP = Path(__file__).resolve().parent / "assets" / "motions" / "mocapbank_walk.bvh"


def main(argv: list[str] | None = None) -> dict:
    argv = sys.argv[1:] if argv is None else argv
    out_dir = Path(argv[0]) if argv else Path("outputs") / "demo"
    output = out_dir / f"{SAMPLE_CLIP.stem}_unitree_g1.npz"
    with initialize_config_dir(config_dir=str(configs_dir()), version_base="1.3"):
        cfg = compose(
            config_name="retarget",
            overrides=[f"motion.path={SAMPLE_CLIP}", "robot=unitree_g1", f"output={output}"],
        )
    print(f"retargeting {SAMPLE_CLIP.name} onto unitree_g1 ...")
    summary = run_retarget(cfg)
    for key, value in summary.items():
        print(f"{key:>32}: {value}")
    print(f"\nresult:  {summary['output']}")
    if "metrics" in summary:
        print(f"metrics: {summary['metrics']}")
    return summary


if __name__ == "__main__":
    main()
