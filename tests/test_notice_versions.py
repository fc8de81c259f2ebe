"""The notice is versioned (issue 16, item 8): an id and an effective date in
data/notice/sections.yml, older versions kept under data/notice/versions/<id>/ for the tickets
that cite them, and a revised notice changes the answers without a change of code."""

from __future__ import annotations

import json
import shutil
import urllib.request
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from madoguchi.infra.settings import load_settings, project_root
from madoguchi.notice import NoticeError, compose_answer, load_notice
from madoguchi.notice.versions import archive, known_versions, load_version, read_version
from madoguchi.runtime.launcher import Launcher, action_service, free_port

ROOT = project_root()
OLD = "④ ご請求内容を確認の上、ご回答させていただきます。"
NEW = "④ ご請求内容を確認の上、2週間以内にご回答させていただきます。"


def revised(folder: Path) -> Path:
    """A copy of data/notice, its version kept, then one sentence of §4 (2) changed: v2."""
    notice = folder / "notice"
    shutil.copytree(ROOT / "data" / "notice", notice, ignore=shutil.ignore_patterns("versions"))
    archive(notice)
    for name in ("privacy_notice_ja.txt", "sections.yml"):
        path = notice / name
        text = path.read_text(encoding="utf-8")
        assert text.count(OLD) == 1
        text = text.replace(OLD, NEW)
        if name == "sections.yml":
            text = text.replace('version: 1\nid: "v1"\neffective: 2023-03-28',
                                'version: 2\nid: "v2"\neffective: 2026-12-01')
        path.write_text(text, encoding="utf-8")
    return notice


def test_the_notice_in_force_names_its_version() -> None:
    version = load_notice().version
    assert (version.id, version.number, version.effective) == ("v1", 1, date(2023, 3, 28))
    assert version.label == "第1版（2023年3月28日施行）"
    assert load_settings().notice_dir == ROOT / "data" / "notice"


def test_a_revision_keeps_the_old_version_for_the_tickets_that_cite_it(tmp_path: Path) -> None:
    notice = revised(tmp_path)
    assert [v.id for v in known_versions(notice)] == ["v2", "v1"]
    assert NEW in load_notice(notice).get("4.2").text
    assert OLD in load_version("v1", notice).get("4.2").text
    assert NEW in load_version("v2", notice).get("4.2").text
    with pytest.raises(KeyError, match=r"v1, v2|v2, v1"):
        load_version("v9", notice)


def test_a_kept_version_is_never_overwritten_with_other_text(tmp_path: Path) -> None:
    notice = revised(tmp_path)
    sections = notice / "sections.yml"
    # Someone edits the text again but forgets to give it a new id.
    sections.write_text(sections.read_text(encoding="utf-8").replace('id: "v2"', 'id: "v1"')
                        .replace("version: 2", "version: 1"), encoding="utf-8")
    with pytest.raises(NoticeError, match="already holds version 'v1' with other text"):
        archive(notice)


def test_a_version_without_id_or_date_is_refused(tmp_path: Path) -> None:
    notice = tmp_path / "notice"
    shutil.copytree(ROOT / "data" / "notice", notice, ignore=shutil.ignore_patterns("versions"))
    sections = notice / "sections.yml"
    sections.write_text(sections.read_text(encoding="utf-8").replace(
        "effective: 2023-03-28\n", "effective: いつか\n"), encoding="utf-8")
    with pytest.raises(NoticeError, match="effective must be the day"):
        read_version(notice)


@pytest.fixture(scope="module")
def revised_actions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real action server, pointed at the revised notice by MADOGUCHI_NOTICE_DIR only."""
    work = tmp_path_factory.mktemp("revised")
    notice = revised(work)
    port = free_port()
    launcher = Launcher(ROOT, work / "logs", env={
        "MADOGUCHI_NOTICE_DIR": str(notice),
        "MADOGUCHI_ACTION_TOKEN": "revised-notice-test",
        "MADOGUCHI_DB_URL": f"sqlite:///{work / 'madoguchi.db'}",
        "TF_CPP_MIN_LOG_LEVEL": "3",
    })
    service = action_service(ROOT, port=port)
    launcher.start(service)
    try:
        launcher.wait_ready([service], timeout=180)
        yield f"http://127.0.0.1:{port}/webhook?token=revised-notice-test"
    finally:
        launcher.stop_all()


def ask_notice(url: str, intent: str, text: str) -> dict:
    """What action_answer_notice returns for a customer's question NLU read as `intent`."""
    message = {"text": text, "intent": {"name": intent, "confidence": 0.97},
               "intent_ranking": [{"name": intent, "confidence": 0.97}], "entities": []}
    call = {"next_action": "action_answer_notice", "sender_id": "revised", "version": "3.6.21",
            "domain": {}, "tracker": {
                "sender_id": "revised", "slots": {}, "latest_message": message,
                "events": [{"event": "user", "text": text, "parse_data": message}],
                "paused": False, "followup_action": None, "active_loop": {},
                "latest_action_name": "action_listen"}}
    request = urllib.request.Request(url, data=json.dumps(call).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.loads(response.read())


def test_a_revised_notice_changes_the_answers_with_no_code_change(revised_actions: str) -> None:
    done = ask_notice(revised_actions, "notice_4_2", "請求の手続きの流れを教えてください")
    [reply] = done["responses"]
    assert NEW in reply["text"] and OLD not in reply["text"]
    assert reply["notice_version"] == "v2"
    slots = {e["name"]: e["value"] for e in done["events"] if e["event"] == "slot"}
    assert slots == {"notice_section": "4.2", "notice_version": "v2"}
    # The notice in force here still answers with the old sentence, as version v1.
    assert OLD in compose_answer(load_notice(), "4.2").text
