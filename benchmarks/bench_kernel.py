"""A real IPython kernel (jupyter_client) for execute round trips: how long a kernel takes to
answer while a sign-in polls in it, against the same kernel idle."""

from __future__ import annotations

import random
import subprocess
import time
from pathlib import Path
from typing import Any

from bench_tools import Bench, ms


class Kernel:
    """A real IPython kernel through jupyter_client, for execute round trips."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        from jupyter_client.manager import KernelManager

        self.manager = KernelManager(kernel_name="python3")
        # The kernel's own log (a TCP warning) is not a figure: keep it off the table.
        self.manager.start_kernel(env=env, cwd=str(cwd), stderr=subprocess.DEVNULL)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def execute(self, code: str) -> float:
        started = time.perf_counter()
        msg_id = self.client.execute(code, store_history=False)
        while True:
            reply = self.client.get_shell_msg(timeout=30)
            if reply["parent_header"].get("msg_id") == msg_id:
                break
        elapsed = time.perf_counter() - started
        if reply["content"]["status"] != "ok":
            raise RuntimeError(f"{code!r} failed in the kernel: {reply['content'].get('ename')}")
        return elapsed

    def sample(self, rounds: int, spread: float, rng: random.Random) -> list[float]:
        """``rounds`` round trips of a trivial request, at random moments over about
        ``rounds * spread / 2`` seconds (so that they meet the sign-in's polls)."""
        found = []
        for _ in range(rounds):
            time.sleep(rng.uniform(0, spread))
            found.append(self.execute("1"))
        return found

    def close(self) -> None:
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def kernel_figures(bench: Bench, rounds: int, samples: dict[str, list[float]]) -> dict[str, Any]:
    from ssooidc_jupyter.emulator import Emulator

    home = bench.home("home-kernel")
    rng = random.Random(10)
    interval = 0.2
    with Emulator(interval=interval) as emu:  # nobody approves: the sign-in stays pending, polling
        kernel = Kernel(bench.env(home), bench.root)
        try:
            kernel.execute("%load_ext ssooidc_jupyter")
            for _ in range(3):
                kernel.execute("1")  # warm up
            idle = kernel.sample(rounds // 2, interval, rng)
            kernel.execute(
                f"%ssooidc login --start-url {emu.start_url} --region {emu.region} "
                f"--endpoint {emu.url}"
            )
            deadline = time.monotonic() + 30
            while not emu.user_codes:  # the code is out: the sign-in is pending
                if time.monotonic() > deadline:
                    raise RuntimeError("the kernel's sign-in never asked for a code")
                time.sleep(0.01)
            polls = sum(r["operation"] == "CreateToken" for r in emu.requests)
            during = kernel.sample(rounds, interval, rng)
            polls = sum(r["operation"] == "CreateToken" for r in emu.requests) - polls
            kernel.execute("%ssooidc cancel")
            idle += kernel.sample(rounds - rounds // 2, interval, rng)
        finally:
            kernel.close()
    if polls < 2:
        raise RuntimeError("the sign-in did not poll while the round trips were measured")
    samples["kernel_latency_during_login_ms"] = [s * 1000 for s in during]
    samples["kernel_latency_idle_ms"] = [s * 1000 for s in idle]
    return {"kernel_latency_during_login_ms": ms(during), "kernel_latency_idle_ms": ms(idle)}
