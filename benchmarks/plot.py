"""Plot time-to-code, ours against botocore, from the JSON of ``benchmarks/run.py``.

``python benchmarks/plot.py OUT.png RUN.json [RUN.json ...]`` (or ``run.py --plot OUT.png``).
Each fresh-process sample is a point, in the order taken (runs one after another), with the
medians as lines. Needs matplotlib: a docs-only tool (``pip install 'ssooidc-jupyter[docs]'``),
never a dependency of the package.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any


def plot(runs: list[dict[str, Any]], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display: write the file only
    import matplotlib.pyplot as plt
    from matplotlib.ticker import MaxNLocator

    ours: list[float] = []
    theirs: list[float] = []
    bounds: list[int] = []
    for run in runs:
        ours += run["samples"]["time_to_code_ms"]
        theirs += run["samples"]["botocore_time_to_code_ms"]
        bounds.append(len(ours))
    fig, ax = plt.subplots(figsize=(8, 4.2), dpi=110)
    xs = range(1, len(ours) + 1)
    for values, colour, label in (
        (theirs, "#d62728", "botocore (import boto3, client, StartDeviceAuthorization)"),
        (ours, "#1f77b4", "ssooidc-jupyter login() to the prompt callback"),
    ):
        ax.plot(xs, values, "o-", color=colour, alpha=0.75, markersize=4, linewidth=1, label=label)
        middle = statistics.median(values)
        ax.axhline(middle, color=colour, linestyle="--", linewidth=1)
        ax.annotate(
            f"median {middle:.0f} ms",
            (len(values), middle),
            textcoords="offset points",
            xytext=(-4, 4),
            ha="right",
            color=colour,
            fontsize=8,
        )
    target = 0.4 * statistics.median(theirs)
    ax.axhline(target, color="black", linestyle=":", linewidth=1)
    ax.annotate(
        f"target: 0.4x botocore ({target:.0f} ms)",
        (1, target),
        textcoords="offset points",
        xytext=(2, 4),
        fontsize=8,
    )
    for bound in bounds[:-1]:
        ax.axvline(bound + 0.5, color="grey", linewidth=0.5)
    ax.set_ylim(bottom=0)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("fresh process (ours and botocore interleaved)")
    ax.set_ylabel("process start to user code (ms)")
    ax.set_title("Time to the sign-in code, registration cached, loopback emulator")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=8)
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        sys.stderr.write(__doc__ or "")
        return 2
    runs = [json.loads(Path(name).read_text()) for name in argv[1:]]
    plot(runs, Path(argv[0]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
