"""The review side on conversations the real Rasa and action servers stored, and the logs they
wrote: no customer's contact data in any log file, masked in every supervisor view."""

from __future__ import annotations

from pathlib import Path

from madoguchi.review import filters as flt
from madoguchi.review.service import SupervisorReview

PHONE = "090-8765-4321"
EMAIL = "hanako.sato@example.co.jp"
# Also the forms the gate used to miss (issue 15, item 4): dots, another script, a card by dots.
DOTTED, IDN, CARD = "090.2468.1357", "山田@例え.jp", "4111.1111.1111.1111"
CONTACT = [PHONE, "09087654321", "8765-4321", EMAIL, DOTTED, "2468.1357", IDN, CARD, "1111.1111"]


def test_a_real_conversation_is_reviewable_masked_and_never_logged(servers, sender):
    servers.say(sender, f"個人情報を開示してほしいです。電話は{PHONE}、メールは{EMAIL}です")
    servers.say(sender, "ぴよぴよぽん")
    servers.say(sender, f"連絡先は{DOTTED}か{IDN}です。カードは{CARD}です")

    review = SupervisorReview.from_url(servers.database_url)
    try:
        conversation = review.conversation(sender)
        listed = review.list(flt.parse_filters({"q": "開示"}), limit=500)
    finally:
        review.engine.dispose()
    first = next(t["customer"] for t in conversation["transcript"] if t["customer"])
    assert first["intent"] and isinstance(first["confidence"], float)
    assert first["runner_up"] and first["text"].startswith("個人情報を開示してほしいです")
    assert "［電話番号］" in first["text"] and "［メールアドレス］" in first["text"]
    assert conversation["turns"] == 3 and sender in {c["id"] for c in listed["conversations"]}
    shown = repr(conversation) + repr(listed)
    for secret in CONTACT:
        assert secret not in shown

    logs = sorted(Path(servers.launcher.log_dir).glob("**/*.log"))
    assert logs
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in CONTACT:
            assert secret not in text, f"{secret!r} in {log.name}"
