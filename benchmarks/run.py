"""Side-by-side benchmarks: ssooidc-jupyter against a botocore-based flow, in one run.

Everything runs against the local emulator on 127.0.0.1, so the figures compare the
clients' own overheads (imports, request building, signing, parsing), not AWS.

Two tables:

* what a notebook user waits for (issue 10): ``%load_ext``, a fresh process to the user
  code on screen, the approval noticed, a cached sign-in in a fresh process, a kernel's
  round trip while a sign-in is pending, the memory added. Where a process start is
  involved, each sample is a fresh interpreter, ours and theirs interleaved (the order
  alternates) so that machine noise hits both; figures are medians. Ratio = ours / theirs
  (lower: ours faster).
* single in-process operations (ratio = botocore / ours: higher: ours faster).

Each fresh interpreter runs a program of ``probes/`` (``python benchmarks/probes/NAME.py``).
Fresh interpreters read byte code from a private ``PYTHONPYCACHEPREFIX`` filled by one
warm-up run of each probe, as an installed package (and botocore in site-packages) would,
even when the environment sets ``PYTHONDONTWRITEBYTECODE``.

Run with ``make bench`` or ``python benchmarks/run.py [--quick] [--json PATH] [--plot PATH]``.
Never used as a timed assertion in tests (``--quick`` is a smoke test of this script).

This module is the command line and the report; the figures are measured by
``bench_waits.py`` (fresh processes and in-process sign-ins), ``bench_kernel.py`` (a real
kernel), ``bench_operations.py`` (single operations, TLS), ``statusbar.py`` (Chromium), over
``bench_tools.py``; ``bench_targets.py`` holds each figure's goal.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench_kernel import kernel_figures
from bench_operations import Row, operations_table, operations_text, tls_figures
from bench_targets import FIGURES, figures_table
from bench_tools import Bench, isolated, machine
from bench_waits import (
    cached_login_figures,
    detection_figures,
    load_ext_figures,
    rss_figures,
    time_to_code_figures,
    waiting_notice_figures,
)


@dataclass(frozen=True)
class Settings:
    """How many samples of each kind: ``--quick`` (a smoke test) or a full run."""

    quick: bool
    pairs: int
    repeat: int
    import_repeat: int
    interval: float
    logins: int
    rounds: int

    @classmethod
    def of(cls, quick: bool) -> Settings:
        if quick:
            return cls(
                True, pairs=3, repeat=20, import_repeat=3, interval=0.2, logins=10, rounds=10
            )
        return cls(False, pairs=15, repeat=200, import_repeat=7, interval=1.0, logins=12, rounds=40)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description="ssooidc-jupyter against botocore, side by side (see the module docstring)."
    )
    parser.add_argument("--quick", action="store_true", help="few repetitions (a CI smoke test)")
    parser.add_argument("--json", type=Path, help="also write the figures here, as one object")
    parser.add_argument("--plot", type=Path, help="also plot time-to-code to this PNG")
    parser.add_argument(
        "--browser",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="the status-bar figures in Chromium on a real JupyterLab (default: on, off "
        "with --quick)",
    )
    return parser


def measure(
    run: Settings, browser: bool, samples: dict[str, list[float]]
) -> tuple[dict[str, Any], list[Row]]:
    """Every figure, in one throwaway root: (the figures, the operations' rows)."""
    quick = run.quick
    figures: dict[str, Any] = {}
    with isolated() as root:
        bench = Bench(root=root)
        figures.update(load_ext_figures(bench, run.pairs, samples))
        figures.update(time_to_code_figures(bench, run.pairs, samples))
        figures.update(detection_figures(bench, run.logins, run.interval))
        figures.update(cached_login_figures(bench, run.pairs, run.repeat, samples))
        figures.update(kernel_figures(bench, run.rounds, samples))
        figures.update(rss_figures(bench, 1 if quick else 3))
        figures.update(tls_figures(10 if quick else 50))
        figures.update(waiting_notice_figures(bench, 3 if quick else 10, samples))
        rows = operations_table(bench, run.repeat, run.import_repeat)
        if browser:
            from statusbar import statusbar_figures  # benchmarks/statusbar.py, beside this file

            figures.update(statusbar_figures(root / "browser", quick=quick))
    return figures, rows


def report(
    run: Settings, figures: dict[str, Any], rows: list[Row], info: dict[str, Any], took: float
) -> str:
    """The two tables as printed, with how they were measured."""
    return (
        figures_table(figures)
        + "\n"
        + f"ratio = ours / theirs (lower: ours faster); medians of {run.pairs} fresh processes "
        f"each, interleaved; {run.rounds} kernel round trips; {run.logins} approvals at random "
        "moments\n\n"
        + operations_text(rows)
        + "\n"
        + "ratio = botocore / ours (higher: ours faster); medians of "
        f"{run.repeat} runs ({run.import_repeat} for imports)\n"
        + f"machine: {info['nproc']} x {info['cpu']}, Python {info['python']}; took {took:.0f} s\n"
    )


def result_json(
    run: Settings,
    figures: dict[str, Any],
    rows: list[Row],
    samples: dict[str, list[float]],
    info: dict[str, Any],
) -> dict[str, Any]:
    """Every figure as one object (``--json``; what ``plot.py`` reads)."""
    result = dict(figures)
    result["targets_met"] = {ours: met(figures) for ours, _, _, met in FIGURES if ours in figures}
    result["samples"] = {k: [round(v, 3) for v in vs] for k, vs in samples.items()}
    result["operations"] = [
        {"name": n, "ours_s": o, "botocore_s": b, "ratio": b / o} for n, o, b in rows
    ]
    result["machine"] = info
    result["quick"] = run.quick
    return result


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    run = Settings.of(args.quick)
    browser = args.browser or (args.browser is None and not args.quick)
    samples: dict[str, list[float]] = {}
    info = machine()
    started = time.perf_counter()
    figures, rows = measure(run, browser, samples)
    sys.stdout.write(report(run, figures, rows, info, time.perf_counter() - started))
    result = result_json(run, figures, rows, samples, info)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    if args.plot:
        from plot import plot  # benchmarks/plot.py, beside this file

        plot([result], args.plot)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
