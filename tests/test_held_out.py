"""The held-out sets stay held out: nothing the bench measures on is trained on.

A message counts as the same when it matches after NFKC and without spaces and punctuation, so
「ありがとう！」 in training makes 「ありがとう」 in a held-out file a copy. The shared acceptance
cases are in neither.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter

import pytest
import yaml

from madoguchi.infra.settings import project_root
from madoguchi.notice.evaluate import load_questions

ROOT = project_root()
TRAINING = sorted((ROOT / "data" / "nlu").glob("*.yml"))
HELD_OUT_NLU = sorted((ROOT / "eval").glob("nlu_heldout_*.yml"))
HELD_OUT_NOTICE = ROOT / "eval" / "notice_questions.yml"
REALWORLD = sorted((ROOT / "eval" / "realworld").glob("*.yml"))
ACCEPTANCE = ROOT.parent / "shared" / "eval" / "acceptance.jsonl"

_PUNCTUATION = re.compile(r"[\s。、，,．.!！?？「」『』…・ー〜~]")


def _key(text: str) -> str:
    return _PUNCTUATION.sub("", unicodedata.normalize("NFKC", text))


def _examples(paths: list) -> list[tuple[str, str]]:
    """(intent, text) for every example line of Rasa NLU YAML files."""
    out = []
    for path in paths:
        for block in yaml.safe_load(path.read_text("utf-8")).get("nlu", []):
            for line in block.get("examples", "").splitlines():
                if line.strip().startswith("- "):
                    out.append((block["intent"], line.strip()[2:].strip()))
    return out


TRAINED = {_key(text) for _, text in _examples(TRAINING)}


def test_no_held_out_nlu_message_is_trained_on() -> None:
    copies = [text for _, text in _examples(HELD_OUT_NLU) if _key(text) in TRAINED]
    assert copies == []


def test_no_held_out_notice_question_is_trained_on() -> None:
    copies = [q.text for q in load_questions(HELD_OUT_NOTICE) if _key(q.text) in TRAINED]
    assert copies == []


def _realworld() -> list[dict]:
    return [row for path in REALWORLD for row in yaml.safe_load(path.read_text("utf-8"))]


def test_no_real_customer_message_is_trained_on() -> None:
    rows = _realworld()
    assert len(rows) >= 300
    assert [row["text"] for row in rows if _key(row["text"]) in TRAINED] == []


def test_every_real_customer_message_cites_its_source_and_both_labels() -> None:
    for row in _realworld():
        assert str(row["source"]).startswith(("http://", "https://")), row["id"]
        assert set(row["labels"]) == {"first", "second"}, row["id"]
        if row["labels"]["first"] != row["labels"]["second"]:
            assert row.get("settled"), row["id"]


def test_a_fifth_of_the_real_customer_messages_is_kept_apart() -> None:
    dev = yaml.safe_load((ROOT / "eval" / "realworld" / "dev.yml").read_text("utf-8"))
    final = yaml.safe_load((ROOT / "eval" / "realworld" / "final.yml").read_text("utf-8"))
    assert not {r["id"] for r in dev} & {r["id"] for r in final}
    # every fifth message of each label, rounded up: a little over a fifth in all
    assert 0.18 <= len(final) / (len(dev) + len(final)) <= 0.25


def test_the_held_out_nlu_set_measures_every_dialogue_intent() -> None:
    counts = Counter(intent for intent, _ in _examples(HELD_OUT_NLU))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text("utf-8"))
    dialogue = {i for i in domain["intents"] if not str(i).startswith("notice_")}
    assert set(counts) == dialogue
    assert min(counts.values()) >= 5, counts


@pytest.mark.skipif(not ACCEPTANCE.exists(), reason="shared acceptance cases not present")
def test_no_acceptance_case_is_trained_on_or_held_out() -> None:
    cases = [json.loads(line)["text"] for line in ACCEPTANCE.read_text("utf-8").splitlines()
             if line.strip()]
    held_out = {_key(t) for _, t in _examples(HELD_OUT_NLU)}
    held_out |= {_key(q.text) for q in load_questions(HELD_OUT_NOTICE)}
    assert [t for t in cases if _key(t) in TRAINED | held_out] == []
