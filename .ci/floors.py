"""Check that every direct requirement of ssooidc-jupyter is installed at its stated floor.

Run in the environment that ``uv pip install --resolution lowest-direct`` made (nox's
``lowest`` session): there, each direct dependency should be exactly the lowest version
pyproject.toml allows. When the resolver had to lift one (another requirement needs more,
or that release is yanked), the stated floor was never tested: this fails and says which
floor to raise. Usage: ``python .ci/floors.py EXTRA...``.
"""

from __future__ import annotations

import sys
from importlib import metadata

from packaging.requirements import Requirement
from packaging.version import Version

DISTRIBUTION = "ssooidc-jupyter"


def untested_floors(extras: set[str]) -> list[str]:
    problems = []
    for text in metadata.requires(DISTRIBUTION) or []:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and not any(marker.evaluate({"extra": e}) for e in extras):
            continue
        floors = [Version(s.version) for s in requirement.specifier if s.operator == ">="]
        if not floors:
            problems.append(f"{requirement}: no floor (say which oldest version works)")
            continue
        installed = Version(metadata.version(requirement.name))
        if installed != max(floors):
            problems.append(
                f"{requirement}: lowest-direct installed {installed}; the floor that was "
                f"tested is {installed}"
            )
    return problems


def main() -> int:
    extras = set(sys.argv[1:]) or {""}
    problems = untested_floors(extras)
    for problem in problems:
        print(f"untested floor: {problem}", file=sys.stderr)
    if not problems:
        print(f"every direct requirement of {DISTRIBUTION} is at its floor")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
