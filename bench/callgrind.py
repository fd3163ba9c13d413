"""Instruction counts under valgrind's callgrind, for the benches' ``--instructions`` modes.

Instructions are exact and immune to a noisy machine (time is not; and instructions are not time:
a cache miss costs none), so two builds or variants compare to the instruction.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path


def thread_counts(command: list[str], out: Path) -> tuple[int, int]:
    """Runs ``command`` under callgrind (one output file per thread, named from ``out``) and
    returns the instructions of its first thread (the one that runs the measured loop) and of all
    its other threads together. The hash seed is fixed: with a random one, start-up work varies
    by ~1M instructions between runs, more than a per-iteration difference of runs shows."""
    subprocess.run(
        ["valgrind", "--tool=callgrind", "--separate-threads=yes", f"--callgrind-out-file={out}",
         *command],
        check=True, capture_output=True, env={**os.environ, "PYTHONHASHSEED": "0"},
    )  # fmt: skip
    main_thread = others = 0
    for part in sorted(out.parent.glob(out.name + "-*")):
        text = part.read_text(errors="replace")
        match = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        count = int(match.group(1)) if match else 0
        if part.name.endswith("-01"):
            main_thread = count
        else:
            others += count
    return main_thread, others
