"""Specification: training examples composed of a customer's scene and a short wish after it.

Real customers tell what happened before they say what they want. The composed examples teach
the intent model that the wish decides: one or two statements from our complaint and
out-of-scope examples, then a short request example, labelled as the request.
"""

from __future__ import annotations

import pytest

from madoguchi.intents import IntentModel, ModelConfig
from madoguchi.intents.scenes import composed_examples, scene_sentences
from madoguchi.text.tokenize import tokenize

pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

COMPLAINTS = [
    "知らない会社から電話がかかってきました。名前も住所も知られていて怖かったです。"
    "どうなっているんですか。",
    "先週、お店で会員証を出したら、店員さんが大きな声で私の住所を読み上げました。"
    "周りに人がいたのに本当にひどい対応です。",
    "注文した荷物が隣の家に届いていました。伝票に私の電話番号が丸見えでした。謝ってください。",
]
OUT_OF_SCOPE = [
    "昨日の夜、海外の番号から着信がありました。折り返したほうがいいですか？",
    "宅配便の不在票がポストに入っていました。再配達はどこに頼めばいいですか。",
]
REQUESTS = [
    ("DMを止めてください", "request_marketing_optout"),
    ("カタログはもう送らないで", "request_marketing_optout"),
    ("私の登録情報を消してください", "request_suspension"),
    ("会員データを全部削除してほしい", "request_suspension"),
    ("保有している私の情報を開示してください", "request_disclosure"),
    ("私のどんな情報を持っているか見せて", "request_disclosure"),
]
LONG_REQUEST = (
    "資料請求をしてからずっと、毎週のように分厚いダイレクトメールが届くようになってしまい、"
    "家族からも何とかしてほしいと言われていますので、今後の送付はすべて止めていただけますか"
)


def _examples(texts: list[str], label: str) -> list[tuple[list, str]]:
    return [(tokenize(t), label) for t in texts]


def training() -> list[tuple[list, str]]:
    return [
        *_examples(COMPLAINTS, "complaint"),
        *_examples(OUT_OF_SCOPE, "out_of_scope"),
        *[(tokenize(t), label) for t, label in REQUESTS],
        (tokenize(LONG_REQUEST), "request_marketing_optout"),
    ]


def text_of(words) -> str:
    return "".join(w.lemma for w in words)


def test_a_scene_is_a_statement_before_the_examples_last_sentence():
    words = tokenize(COMPLAINTS[0])
    scenes = [text_of(s) for s in scene_sentences(words)]
    assert len(scenes) == 2  # the last sentence is the complaint's point, not its scene
    assert scenes[0].startswith("知る") and scenes[0].endswith("。")
    assert not any("どう" in s for s in scenes)


def test_questions_and_fragments_are_not_scenes():
    assert scene_sentences(tokenize(OUT_OF_SCOPE[0]))  # the statement before the question
    assert scene_sentences(tokenize("折り返しますか？それとも待ちますか。いいえ")) == []
    # too short to tell a story
    assert scene_sentences(tokenize("はい。そうです。お願いします")) == []


def test_each_composed_example_is_a_short_request_after_one_or_two_scenes():
    examples = training()
    scenes = {text_of(s) for words, label in examples if label in {"complaint", "out_of_scope"}
              for s in scene_sentences(words)}
    wishes = {text_of(tokenize(t)): label for t, label in REQUESTS}
    composed = composed_examples(examples, 60, seed=7)
    assert len(composed) == 60
    for words, label in composed:
        text = text_of(words)
        wish = next(w for w in wishes if text.endswith(w))
        assert label == wishes[wish]
        story = text[: -len(wish)]
        pieces = [p + "。" for p in story.split("。") if p]
        assert 1 <= len(pieces) <= 2 and all(p in scenes for p in pieces)
        assert [w.start for w in words] == sorted(w.start for w in words)
    assert not any(text_of(w).endswith(text_of(tokenize(LONG_REQUEST))) for w, _ in composed)


def test_composition_is_repeatable_and_can_be_turned_off():
    examples = training()
    first = [(text_of(w), label) for w, label in composed_examples(examples, 20, seed=3)]
    again = [(text_of(w), label) for w, label in composed_examples(examples, 20, seed=3)]
    other = [(text_of(w), label) for w, label in composed_examples(examples, 20, seed=4)]
    assert first == again and first != other
    assert composed_examples(examples, 0, seed=3) == []
    assert composed_examples(_examples(REQUESTS[0][:1], "request_suspension"), 5, seed=3) == []


def test_the_wish_after_a_scene_decides_the_intent():
    """A scene the model has not seen, then a wish, in one clause: without composed examples
    the scene's words make it a complaint; with them the request wins."""
    message = ("お店の人に電話番号を大きな声で読み上げられて本当に怖かったので"
               "私の登録情報を消してください")
    words = tokenize(message)
    plain = dict(IntentModel.fit(training(), ModelConfig(max_iter=300)).rank(message, words))
    with_scenes = IntentModel.fit(training(), ModelConfig(composed_scenes=200, max_iter=300))
    ranking = dict(with_scenes.rank(message, words))
    assert plain["complaint"] > plain["request_suspension"]
    assert ranking["request_suspension"] > ranking["complaint"]


def test_a_saved_model_remembers_how_it_was_trained(tmp_path):
    model = IntentModel.fit(training(), ModelConfig(composed_scenes=10, max_iter=20))
    model.save(tmp_path)
    assert IntentModel.load(tmp_path).config.composed_scenes == 10
    with pytest.raises(ValueError, match="composed_scenes"):
        ModelConfig(composed_scenes=-1).validate()
