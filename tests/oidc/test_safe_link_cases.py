"""Python's ``safe_link`` against the table TypeScript's ``safeLink`` is tested on too.

The status bar (src/links.ts) and the notebook's outputs (``oidc/_values.safe_link``) decide
alike which sign-in links they offer: one table of cases, src/__tests__/safe_link_cases.json,
is read here and by jest (src/__tests__/links.spec.ts, ``npm test``). A change of either
twin that the table does not follow fails one of the two.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ssooidc_jupyter.oidc._values import safe_link
from tests._support import ROOT

TABLE = ROOT / "src" / "__tests__" / "safe_link_cases.json"
CASES: list[dict[str, Any]] = json.loads(TABLE.read_text(encoding="utf-8"))["cases"]


def test_the_table_covers_both_answers() -> None:
    answers = [case["safe"] for case in CASES]
    assert answers.count(True) >= 5 and answers.count(False) >= 5
    assert len({case["url"] for case in CASES}) == len(CASES)  # no case twice


@pytest.mark.parametrize("case", CASES, ids=[case["why"] for case in CASES])
def test_safe_link_follows_the_shared_table(case: dict[str, Any]) -> None:
    link = safe_link(case["url"])
    assert (link is not None) == case["safe"], case
    if case["safe"]:
        assert link == case["url"]  # offered as written (the browser normalises it)
