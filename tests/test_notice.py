"""The notice as data: faithful to the original, cited correctly, answered within a chat bubble."""

from __future__ import annotations

import json
import re
import shutil
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import yaml

from madoguchi.notice import (
    EXPECTED_IDS,
    Notice,
    NoticeError,
    SectionRetriever,
    compose_answer,
    coverage_problems,
    load_notice,
    match_limit,
)
from madoguchi.notice.evaluate import evaluate, load_questions

ROOT = Path(__file__).resolve().parents[1]
NOTICE_DIR = ROOT / "data" / "notice"
ORIGINAL = NOTICE_DIR / "privacy_notice_ja.txt"
NLU_FILE = ROOT / "data" / "nlu" / "notice.yml"
EVAL_FILE = ROOT / "eval" / "notice_questions.yml"
ACCEPTANCE = ROOT.parent / "shared" / "eval" / "acceptance.jsonl"

# DESIGN.md "Contracts", restated here on purpose: the loader's copy must agree with it.
DESIGN_IDS = {
    "0", "1", "2", "3", "4", "5", "6", "7",
    *(f"2.{n}" for n in range(1, 10)),
    "4.1", "4.2",
    *(f"6.{n}" for n in range(1, 8)),
}  # fmt: skip

# The one sentence the original file breaks across two lines (6 (6)): sections.yml re-joins it.
BROKEN_SENTENCE = (
    "セキュリティ機器の導入等のアクセス制御により、個人情報を取扱う機器への不正ア",
    "クセスや不正ソフトウェアから保護しています。",
)

BUBBLE = 260


@pytest.fixture(scope="module")
def notice() -> Notice:
    return load_notice(NOTICE_DIR)


@pytest.fixture(scope="module")
def retriever(notice: Notice) -> SectionRetriever:
    return SectionRetriever(notice)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _sentences(lines: list[str]) -> list[str]:
    """A deliberately simple splitter (after every 。), independent of the loader's."""
    out: list[str] = []
    for line in lines:
        out.extend(_squash(p) + "。" for p in line.split("。")[:-1] if _squash(p))
        tail = line.split("。")[-1]
        if _squash(tail):
            out.append(_squash(tail))
    return out


def _body(answer_text: str) -> str:
    return answer_text.rsplit("\n\n", 1)[0]


# --- loading and faithfulness ----------------------------------------------------------------


def test_ids_are_exactly_designs(notice: Notice) -> None:
    assert set(notice.ids) == DESIGN_IDS
    assert set(EXPECTED_IDS) == DESIGN_IDS
    assert len(notice.ids) == len(DESIGN_IDS)


def test_every_original_sentence_is_in_exactly_one_section(notice: Notice) -> None:
    original_lines = [line.strip() for line in ORIGINAL.read_text("utf-8").splitlines()]
    original_lines = [line for line in original_lines if line]
    # The declared join is the only liberty taken with the original, and it is declared.
    assert notice.joined_lines == (BROKEN_SENTENCE,)
    i = original_lines.index(BROKEN_SENTENCE[0])
    assert original_lines[i + 1] == BROKEN_SENTENCE[1]
    original_lines[i : i + 2] = ["".join(BROKEN_SENTENCE)]

    original = Counter(_sentences(original_lines))
    owners: dict[str, list[str]] = {}
    for section in notice:
        for sentence in _sentences(list(section.lines)):
            owners.setdefault(sentence, []).append(section.id)

    missing = [s for s in original if s not in owners]
    invented = [s for s in owners if s not in original]
    miscounted = {s: ids for s, ids in owners.items() if s in original and len(ids) != original[s]}
    assert not missing, f"sentences of the original in no section: {missing}"
    assert not invented, f"sections hold text the original lacks: {invented}"
    # Two sentences occur twice in the original (the company name, the address in 1 and 7).
    assert not miscounted, f"sentences in more sections than the original has them: {miscounted}"
    assert coverage_problems(notice, ORIGINAL.read_text("utf-8")) == []


def test_coverage_problems_catch_edits(notice: Notice) -> None:
    text = ORIGINAL.read_text("utf-8")
    added = text + "\n弊社は、お客様の情報を大切にします。\n"
    assert any("in no section" in p for p in coverage_problems(notice, added))
    removed = text.replace(
        "受託業務である「旅行代理業務」「電話代理応答業務」を業として行うため。", ""
    )
    assert any("lacks" in p and "旅行代理業務" in p for p in coverage_problems(notice, removed))
    changed = text.replace("午前9時から午後9時", "午前10時から午後6時")
    assert coverage_problems(notice, changed)
    unbroken = text.replace("不正ア\n\nクセス", "不正アクセス")
    assert any("joined_lines" in p for p in coverage_problems(notice, unbroken))


def test_sections_are_well_formed(notice: Notice) -> None:
    for section in notice:
        assert section.text.strip(), section.id
        assert section.intent == "notice_" + section.id.replace(".", "_")
        assert notice.by_intent(section.intent) is section
        assert section.top_level == section.id.split(".")[0]
        if section.parent:
            assert section.parent in notice
            assert section in notice.children(section.parent)
    assert notice.get("2.4").intent == "notice_2_4"
    assert [c.id for c in notice.children("4")] == ["4.1", "4.2"]
    assert len(notice.children("2")) == 9 and len(notice.children("6")) == 7
    assert notice.by_intent("request_disclosure") is None
    with pytest.raises(KeyError):
        notice.get("8")


def test_citations_are_well_formed(notice: Notice) -> None:
    assert notice.get("2.4").citation == "2.個人情報の利用目的 (4)"
    assert notice.get("2").citation == "2.個人情報の利用目的"
    original = _squash(ORIGINAL.read_text("utf-8"))
    for section in notice:
        citation = section.citation
        assert citation.strip() == citation and "\n" not in citation
        if section.id == "0":
            assert not re.match(r"^\d", citation)
            continue
        if section.parent is None:
            assert re.fullmatch(rf"{section.id}\.\S.*", citation), citation
            assert _squash(section.title) in original  # the notice's own heading
        else:
            number = section.id.split(".")[1]
            parent = notice.get(section.parent)
            assert citation.startswith(f"{parent.citation} ({number})"), citation
            rest = citation[len(f"{parent.citation} ({number})") :].strip()
            if rest:
                assert f"({number}) {rest}" in ORIGINAL.read_text("utf-8")


# --- answers ---------------------------------------------------------------------------------


@pytest.mark.parametrize("section_id", sorted(DESIGN_IDS))
def test_answer_for_every_section(notice: Notice, section_id: str) -> None:
    section = notice.get(section_id)
    answer = compose_answer(notice, section_id)
    assert answer.section_id == section_id
    assert answer.citation == section.citation
    assert answer.text.endswith(f"出典: {section.citation}")
    assert len(answer.text) <= BUBBLE
    body_lines = [_squash(line) for line in _body(answer.text).splitlines()]
    section_text = _squash(section.text)
    quoted = [line for line in body_lines if line and line in section_text]
    assert quoted, f"{section_id}: the reply quotes nothing of the section"


@pytest.mark.parametrize("max_chars", [200, 160, 120])
def test_answers_respect_smaller_bubbles(notice: Notice, max_chars: int) -> None:
    for section in notice:
        answer = compose_answer(notice, section.id, max_chars=max_chars)
        assert len(answer.text) <= max_chars, (section.id, len(answer.text))
        assert answer.text.endswith(section.citation)


def test_sub_item_answer_follows_the_question(notice: Notice) -> None:
    note = "※当社が保有するメールアドレス"
    plain = compose_answer(notice, "2.4")
    assert "ターゲティング広告" in plain.text and note not in plain.text
    asked = compose_answer(notice, "2.4", "メールアドレスを広告の配信に使うとはどういうことですか")
    assert note in asked.text and "(4)" in asked.text
    assert len(asked.text) <= BUBBLE

    prize = compose_answer(notice, "2.6", "景品の発送に住所を使いますか")
    assert "景品類発送" in prize.text and "※" not in prize.text
    point_site = compose_answer(notice, "2.6", "ポイントサイト経由で買った場合の購入情報は？")
    assert "ポイントサイト" in point_site.text

    fraud = compose_answer(notice, "2.5", "なりすましを防ぐために何をしていますか")
    assert "IP アドレス" in fraud.text
    fraud_info = compose_answer(notice, "2.5", "不正利用の対策ではどんな情報を使うのですか")
    assert "IP アドレス" in fraud_info.text


def test_parent_answer_lists_its_sub_items(notice: Notice) -> None:
    answer = compose_answer(notice, "2")
    assert "弊社が取得する個人情報の利用目的は、次のとおりです。" in answer.text
    for n in range(1, 10):
        assert f"({n}) " in answer.text
    security = compose_answer(notice, "6")
    for child in notice.children("6"):
        assert child.title in security.text
    outsourcing = compose_answer(notice, "2", "外部の業者に委託することはありますか")
    assert "委託" in outsourcing.text and not _body(outsourcing.text).startswith("なお、")


def test_procedure_answer_picks_the_paragraph_asked_about(notice: Notice) -> None:
    agent = compose_answer(notice, "4.2", "代理人が請求する場合はどうなりますか")
    assert "代理人によりご請求される場合" in agent.text
    fee = compose_answer(notice, "4.2", "手数料はかかりますか")
    assert "別途手数料が必要となる場合がございます" in fee.text
    documents = compose_answer(notice, "4.2", "本人確認の書類は何が必要ですか")
    assert "運転免許書又は保険証等のコピー" in documents.text


def test_contact_details_come_from_the_notice_text(notice: Notice) -> None:
    window = notice.get("7").text
    phones = re.findall(r"\d{4}-\d{6}", window)
    hours = re.search(r"受付時間：[^）]+", window)
    assert len(phones) == 2 and hours
    answer = compose_answer(notice, "7", "電話番号と受付時間は？")
    for phone in phones:
        assert phone in answer.text
    assert hours.group(0) in answer.text
    company = compose_answer(notice, "1")
    assert notice.get("1").lines[1] in company.text  # the address line, as the notice gives it
    # Nothing of the kind is typed into the code.
    for name in ("answer.py", "loader.py", "model.py", "retrieval.py", "evaluate.py"):
        source = ROOT / "src" / "madoguchi" / "notice" / name
        code = source.read_text("utf-8")
        assert not re.search(r"\d{3,4}-\d{4,6}|〒|午前|午後|東京都", code), source.name


# --- honest limits ---------------------------------------------------------------------------


def test_limits_match_their_cue_questions(notice: Notice) -> None:
    assert {limit.id for limit in notice.limits} >= {
        "reply_period", "fee_amount", "ad_recipients", "fraud_vendor", "retention",
        "online_request",
    }  # fmt: skip
    for limit in notice.limits:
        assert limit.examples, limit.id
        for question in limit.examples:
            found = match_limit(question, notice.limits)
            assert found is not None and found.id == limit.id, (question, found)
            answer = compose_answer(notice, limit.section, question)
            assert answer.limit_id == limit.id
            assert answer.section_id == limit.section
            assert answer.text.endswith(f"出典: {notice.get(limit.section).citation}")
            assert len(answer.text) <= BUBBLE
            assert "記載" in answer.text  # says that the notice does not state it


def test_limit_replies_quote_the_notice(notice: Notice) -> None:
    for limit in notice.limits:
        quotes = re.findall(r"「([^「」]+)」", limit.reply)
        assert quotes, f"{limit.id}: the reply should quote what the notice does say"
        for quote in quotes:
            assert _squash(quote) in _squash(notice.subtree_text(limit.section))
        assert "おつなぎ" in limit.reply or "引き継" in limit.reply, limit.id
        assert limit.reply.rstrip().endswith("。")


ORDINARY_QUESTIONS = [
    "個人情報は何に使われますか",
    "開示請求の手続きを教えてください",
    "代理人が請求する場合の手続きは？",
    "手数料はかかりますか",
    "不正利用対策で何の情報を使っていますか",
    "SNSの広告に会員情報が使われることはありますか",
    "ターゲティング広告とは何ですか",
    "受付時間は何時から何時までですか",
    "通話料は無料ですか",
    "海外でデータを扱うことはありますか",
    "メールの案内を止める方法は？",
    "どんな請求ができますか",
    "個人情報保護管理者はいますか",
    "データを廃棄するときは復元できないようにしていますか",
    "この同意事項はいつ制定されましたか",
    "送料はいくらですか",
    "代引き手数料はいくら？",
    "退会手続きと一緒に個人データの消去もお願いします",
    "注文した商品はいつ届きますか",
    "不正利用検知サービスって何ですか",
    "連絡先情報を広告会社に渡して私を特定するって本当ですか",
    "合理的な期間及び範囲で回答ってどういう意味ですか",
]


@pytest.mark.parametrize("question", ORDINARY_QUESTIONS)
def test_ordinary_questions_meet_no_limit(notice: Notice, question: str) -> None:
    assert match_limit(question, notice.limits) is None


# --- retrieval -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("御社の本社所在地と代表者を教えて", "1"),
        ("Googleのターゲティング広告に私のメールアドレスが使われていますか", "2.4"),
        ("なりすましや不正ログインの対策でIPアドレスを使いますか", "2.5"),
        ("第三者に個人情報を提供するのはどんな場合ですか", "3"),
        ("請求用紙の郵送や本人確認書類について教えてください", "4.2"),
        ("カタログやDMの案内が不要なときはどうすればいいですか", "5"),
        ("個人データを外国で取り扱っていますか", "6.7"),
        ("苦情の窓口の電話番号を教えてください", "7"),
        ("同意事項が改訂されたらどこで案内されますか", "0"),
    ],
)
def test_retrieval_ranks_clear_questions_first(
    retriever: SectionRetriever, question: str, expected: str
) -> None:
    ranked = retriever.rank(question, k=3)
    assert ranked and ranked[0][0] == expected, ranked
    assert retriever.best(question) == expected
    assert all(0 < score <= 1 for _, score in ranked)


@pytest.mark.parametrize(
    ("section_id", "question", "expected"),
    [
        ("4", "開示の請求に必要な書類と郵送先を教えてください", "4.2"),
        ("4", "家族が代理人として請求できますか", "4.2"),
        ("4", "どんな種類の請求ができますか", "4.1"),
        ("6", "海外で個人データを扱っていますか", "6.7"),
        ("2", "利用目的を全部教えてください", "2"),
        ("2", "ターゲティング広告に使うのですか", "2.4"),
        ("7", "苦情の窓口の電話番号は", "7"),
    ],
)
def test_retrieval_refines_a_top_level_intent(
    retriever: SectionRetriever, section_id: str, question: str, expected: str
) -> None:
    assert retriever.refine(section_id, question) == expected


def test_retrieval_declines_unrelated_text(retriever: SectionRetriever) -> None:
    assert retriever.rank("明日の天気を教えて") == []
    assert retriever.best("こんにちは") is None


def test_bm25_held_out_accuracy(
    retriever: SectionRetriever, capsys: pytest.CaptureFixture[str]
) -> None:
    report = evaluate(retriever, load_questions(EVAL_FILE))
    with capsys.disabled():
        print(f"\n{report.summary()}")
    assert report.total >= 40
    assert report.top_level_accuracy >= 0.7, report.summary()


# --- broken files ----------------------------------------------------------------------------


@pytest.fixture()
def notice_copy(tmp_path: Path) -> Path:
    target = tmp_path / "notice"
    shutil.copytree(NOTICE_DIR, target)
    return target


def _edit_sections(directory: Path, edit) -> None:  # type: ignore[no-untyped-def]
    path = directory / "sections.yml"
    data = yaml.safe_load(path.read_text("utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")


def _section(data: dict, section_id: str) -> dict:
    return next(s for s in data["sections"] if s["id"] == section_id)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda d: d["sections"].append(dict(_section(d, "7"))), "appears twice"),
        (lambda d: d["sections"].remove(_section(d, "6.7")), "missing: 6.7"),
        (lambda d: _section(d, "2.4").update(parent="9"), "parent 9 does not exist"),
        (lambda d: _section(d, "2.4").update(id=2.4), "quoted string"),
        (lambda d: _section(d, "3").update(text="  "), "text is missing or empty"),
        (lambda d: _section(d, "2.4").update(citation="利用目的 (4)"), "citation must"),
        (
            lambda d: _section(d, "5").update(text=_section(d, "5")["text"] + "\n絶対に安全です。"),
            "holds text the original lacks",
        ),
        (
            lambda d: _section(d, "2.9").update(text="(9) 旅行のため。"),
            "is in no section",
        ),
        (lambda d: d.update(joined_lines=[]), "is in no section"),
        (lambda d: d["templates"].pop("reply"), "templates lack reply"),
    ],
)
def test_broken_sections_raise_a_clear_error(notice_copy: Path, edit, message: str) -> None:  # type: ignore[no-untyped-def]
    _edit_sections(notice_copy, edit)
    with pytest.raises(NoticeError, match=re.escape(message)):
        load_notice(notice_copy)


def test_unreadable_files_raise_a_clear_error(notice_copy: Path) -> None:
    (notice_copy / "sections.yml").write_text("sections: [\n  - id: '0'\n", "utf-8")
    with pytest.raises(NoticeError, match="not valid YAML"):
        load_notice(notice_copy)
    (notice_copy / "sections.yml").unlink()
    with pytest.raises(NoticeError, match="file not found"):
        load_notice(notice_copy)


def test_broken_limits_raise_a_clear_error(notice_copy: Path) -> None:
    path = notice_copy / "limits.yml"
    data = yaml.safe_load(path.read_text("utf-8"))
    data["limits"][0]["reply"] = "同意事項には「3営業日以内にご回答いたします」とございます。"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(NoticeError, match="does not say that"):
        load_notice(notice_copy)
    data["limits"][0]["section"] = "9"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), "utf-8")
    with pytest.raises(NoticeError, match="section must be"):
        load_notice(notice_copy)


def test_default_directory_comes_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MADOGUCHI_HOME", str(ROOT))
    assert load_notice().ids == load_notice(NOTICE_DIR).ids


# --- training and held-out data ----------------------------------------------------------------


def _nlu_examples() -> dict[str, list[str]]:
    data = yaml.safe_load(NLU_FILE.read_text("utf-8"))
    assert data["version"] == "3.1"
    out: dict[str, list[str]] = {}
    for block in data["nlu"]:
        lines = block["examples"].splitlines()
        out[block["intent"]] = [line[2:].strip() for line in lines if line.startswith("- ")]
    return out


def _key(text: str) -> str:
    return _squash(unicodedata.normalize("NFKC", text)).rstrip("?？")


def test_nlu_has_questions_for_every_section(notice: Notice) -> None:
    examples = _nlu_examples()
    assert set(examples) == {s.intent for s in notice}
    for intent, texts in examples.items():
        assert len(texts) >= 15, intent
        assert len(set(texts)) == len(texts), f"{intent} repeats an example"
    owners = Counter(_key(t) for texts in examples.values() for t in texts)
    assert [t for t, n in owners.items() if n > 1] == []


def test_held_out_questions_are_held_out(notice: Notice) -> None:
    questions = load_questions(EVAL_FILE)
    counts = Counter(q.section for q in questions)
    for section in notice:
        need = 5 if section.parent is None else 2
        assert counts[section.id] >= need, section.id
    assert set(counts) <= set(notice.ids)
    trained = {_key(t) for texts in _nlu_examples().values() for t in texts}
    assert not [q.text for q in questions if _key(q.text) in trained]


@pytest.mark.skipif(not ACCEPTANCE.exists(), reason="shared acceptance cases not present")
def test_acceptance_sentences_are_not_copied() -> None:
    accepted = {
        _key(json.loads(line)["text"])
        for line in ACCEPTANCE.read_text("utf-8").splitlines()
        if line.strip()
    }
    trained = {_key(t) for texts in _nlu_examples().values() for t in texts}
    held_out = {_key(q.text) for q in load_questions(EVAL_FILE)}
    assert not accepted & trained
    assert not accepted & held_out


def test_an_answer_reads_the_notice_once_and_stays_the_same(notice, monkeypatch) -> None:
    """The notice's lines are read into words once; later answers read only the question."""
    from madoguchi.notice import answer as answers

    first = compose_answer(notice, "2", "個人情報は何に使われますか")
    read = []
    lemmas = answers.content_lemmas
    monkeypatch.setattr(answers, "content_lemmas",
                        lambda text, n: read.append(text) or lemmas(text, n))
    again = compose_answer(notice, "2", "個人情報は何に使われますか")
    assert again == first
    assert all(text == "個人情報は何に使われますか" for text in read)
