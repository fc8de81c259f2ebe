"""The shared acceptance cases, run the way the acceptance suite reads them.

`../shared/eval/acceptance.jsonl` shows the format of the hidden set: a request label is the
intent `/model/parse` returns (and the `request_type` the conversation takes up), a `notice:ID`
label is the section the reply cites (`notice_section`). These few sentences are a smoke test of
that contract, not a measure: none of them is trained on (tests/test_notice.py checks that), and
the held-out files under eval/ are what the bench measures.
"""

from __future__ import annotations

import json

import pytest

from madoguchi.infra.settings import project_root
from tests.e2e.conftest import Servers, new_sender, texts

ACCEPTANCE = project_root().parent / "shared" / "eval" / "acceptance.jsonl"

REQUEST_INTENTS = {
    "purpose_notice": "request_purpose_notice",
    "disclosure": "request_disclosure",
    "correction": "request_correction",
    "suspension": "request_suspension",
    "third_party_stop": "request_third_party_stop",
    "marketing_optout": "request_marketing_optout",
    "complaint": "complaint",
    "human_handoff": "human_handoff",
    "out_of_scope": "out_of_scope",
}


def _cases() -> list[dict]:
    if not ACCEPTANCE.exists():
        return []
    lines = ACCEPTANCE.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


CASES = _cases()
pytestmark = [
    pytest.mark.server,
    pytest.mark.skipif(not CASES, reason=f"no shared acceptance cases at {ACCEPTANCE}"),
]


@pytest.mark.parametrize(
    "case", [c for c in CASES if not c["label"].startswith("notice:")], ids=lambda c: c["text"]
)
def test_a_request_case_is_read_as_its_intent(servers: Servers, case: dict) -> None:
    assert servers.parse(case["text"])["intent"]["name"] == REQUEST_INTENTS[case["label"]]


@pytest.mark.parametrize(
    "case", [c for c in CASES if c["label"].startswith("notice:")], ids=lambda c: c["text"]
)
def test_a_notice_case_is_answered_from_its_section(servers: Servers, case: dict) -> None:
    expected = case["label"].removeprefix("notice:")
    sender = new_sender()
    reply = servers.say(sender, case["text"])
    cited = servers.slot(sender, "notice_section")
    assert cited is not None, texts(reply)
    # A top-level label is met by that section or one of its sub-items (a more precise answer).
    if "." in expected:
        assert cited == expected, texts(reply)
    else:
        assert str(cited).split(".")[0] == expected, texts(reply)
    assert "出典" in texts(reply)
