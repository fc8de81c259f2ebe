"""Parse bench: where /model/parse spends its time on a message of the channel's maximum length.

Issue 13 bounds the parse p95 of a 5,000-character message (MAX_MESSAGE_CHARS) at 15 ms. The NLU
model is config.yml's, trained here on data/nlu (`rasa train nlu`; MADOGUCHI_BENCH_PARSE_MODEL
names a model to use instead). Messages: bench/nlu.py's longest_message() (the NLU bench's
figure, the same text each time) and 20 different 5,000-character slices of
eval/realworld/dev.yml run together, so that nothing remembered from one message serves the
next whole.

1. In-process, stage by stage (median and p95 over the 20 slices, ms): normalisation, MeCab,
   our word loop, Rasa's Token objects, clause splitting, the features of the whole message and
   its last clauses, the matrix product, the classifier's whole rank, Rasa's whole graph
   (Agent.parse_message) and the response's JSON. The straightforward paths run in the same
   command as the baseline: fugashi's node objects for MeCab, and CountVectorizer on one
   Stretch per row for the features (what training uses).
   These stages read all 5,000 characters; Rasa's graph reads as config.yml's tokenizer says
   (read_last_chars: from the first sentence within the last 1,000 characters).
2. A real `rasa run --enable-api`, asked through POST /model/parse as bench/nlu.py asks it:
   p50/p95 for longest_message() (40 times), the 20 slices (twice each) and the held-out
   messages (short), client round trip included. Results in bench/out/parse.json.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import statistics
import tarfile
import tempfile
import time
from bisect import bisect_left
from collections.abc import Callable
from pathlib import Path

from bench.common import (
    OUT,
    ROOT,
    load_nlu_examples,
    percentile,
    post_json,
    rasa_server,
    table,
    write_json,
)
from bench.nlu import heldout_files, longest_message, realworld_examples, train_nlu

SLICES = 20
LONGEST_REPEATS = 40


def slices() -> list[str]:
    """Different messages of the channel's maximum length, made of real customers' clauses."""
    from madoguchi.rasa_adapters.channels import MAX_MESSAGE_CHARS

    joined = "".join(t for t, _ in realworld_examples("dev"))
    while len(joined) < MAX_MESSAGE_CHARS + SLICES * 997:
        joined += joined
    return [joined[i * 997 : i * 997 + MAX_MESSAGE_CHARS] for i in range(SLICES)]


def model_path() -> Path:
    given = os.environ.get("MADOGUCHI_BENCH_PARSE_MODEL")
    if given:
        return Path(given)
    model, seconds = train_nlu(ROOT / "config.yml", OUT / "models", "nlu-parse")
    print(f"trained the NLU of config.yml in {seconds:.0f} s")
    return model


def timings(fn: Callable[[str], object], texts: list[str]) -> dict[str, float]:
    fn(texts[0])  # warm: lazily built tables and caches are not a message's cost
    times = []
    for text in texts:
        start = time.perf_counter()
        fn(text)
        times.append((time.perf_counter() - start) * 1000)
    return {"median": statistics.median(times), "p95": percentile(times, 0.95)}


def load_intent_model(model: Path):  # type: ignore[no-untyped-def]
    from madoguchi.intents import IntentModel

    folder = Path(tempfile.mkdtemp(prefix="parse-bench-"))
    with tarfile.open(model) as archive:
        members = [m for m in archive.getmembers() if "JapaneseIntentClassifier" in m.name]
        archive.extractall(folder, members=members)
    return IntentModel.load(next(folder.glob("**/intent_model.json")).parent)


def stages(model: Path, texts: list[str]) -> tuple[list[dict], list[dict]]:
    """Each stage's median and p95 on the slices, the straightforward paths beside ours."""
    import ujson
    from rasa.core.agent import Agent
    from rasa.nlu.tokenizers.tokenizer import Token
    from rasa.utils.log_utils import configure_structlog

    from madoguchi.intents import Stretch
    from madoguchi.text import tokenize as tok
    from madoguchi.text.normalize import normalize
    from madoguchi.text.sentences import message_clauses

    configure_structlog(logging.INFO)  # as `rasa run` logs: no debug line per message
    intents = load_intent_model(model)
    normalized = {t: normalize(t).text for t in texts}
    rows = {t: tok.segments(t) for t in texts}
    tagger = tok._tagger().tagger
    columns = {t: ([r[1] for r in rows[t]], [r[4].lower() for r in rows[t]],
                   [r[6] for r in rows[t]]) for t in texts}
    words = {t: tok.tokenize(t) for t in texts}

    def spans(text: str) -> list[tuple[int, int]]:
        starts = columns[text][0]
        found = [(bisect_left(starts, s), bisect_left(starts, e))
                 for s, e in message_clauses(text)[-intents.config.max_clauses :]]
        return [(0, len(starts)), *[(a, b) for a, b in found if b > a]]

    def stretches(text: str) -> list[Stretch]:
        return [Stretch.of(words[text][a:b]) for a, b in spans(text)]

    matrix = {t: intents.featurizer.transform_spans(columns[t][1], columns[t][2], spans(t))
              for t in texts}
    agent = Agent.load(str(model))
    loop = asyncio.new_event_loop()
    parsed = {t: loop.run_until_complete(agent.parse_message(t)) for t in texts}
    measured = [
        ("normalisation (normalize.py)", lambda t: normalize(t), None),
        ("MeCab, one line per word",
         lambda t: list(tok._line_analyses(tagger, normalized[t]) or ()),
         lambda t: tok._node_analyses(tagger, normalized[t])),
        ("tokenize.segments (all of the above + word loop)", tok.segments,
         lambda t: tok.segments(t, nodes=True)),
        ("Rasa Token objects", lambda t: [
            Token(a, b, end=c, lemma=e, data={"pos": f, "norm": d, "reading": g})
            for a, b, c, d, e, f, g in rows[t]], None),
        ("clauses (message_clauses + bisection)", spans, None),
        ("features, whole + last 12 clauses", lambda t: intents.featurizer.transform_spans(
            columns[t][1], columns[t][2], spans(t)),
         lambda t: intents.featurizer.transform(stretches(t))),
        ("matrix product", lambda t: matrix[t] @ intents._coef_t,
         lambda t: matrix[t] @ intents.coef.T),
        ("IntentModel.rank_columns (clauses to ranking)",
         lambda t: intents.rank_columns(t, *columns[t]), None),
        ("Rasa graph: Agent.parse_message", lambda t: loop.run_until_complete(
            agent.parse_message(t)), None),
        ("response JSON (ujson, as sanic)", lambda t: ujson.dumps(parsed[t]), None),
    ]
    collected = collections(lambda t: loop.run_until_complete(agent.parse_message(t)), texts)
    out = []
    for name, ours, plain in measured:
        row: dict = {"stage": name, **{f"ours {k}": v for k, v in timings(ours, texts).items()}}
        if plain is not None:
            row.update({f"plain {k}": v for k, v in timings(plain, texts).items()})
            row["ratio"] = row["plain median"] / max(row["ours median"], 1e-9)
        out.append(row)
    return out, collected


def collections(parse: Callable[[str], object], texts: list[str]) -> list[dict]:
    """Garbage collection during 100 parses, with Rasa's long-lived objects in the collector's
    sight (gc.unfreeze: the baseline) and frozen as JapaneseIntentClassifier.load leaves them."""
    spent = {0: 0.0, 1: 0.0, 2: 0.0}
    count = {0: 0, 1: 0, 2: 0}
    began = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            began[0] = time.perf_counter()
        else:
            spent[info["generation"]] += (time.perf_counter() - began[0]) * 1000
            count[info["generation"]] += 1

    rows = []
    gc.callbacks.append(watch)
    try:
        for label, setup in (("collector sees all (gc.unfreeze)", gc.unfreeze),
                             ("frozen after load (ours)", gc.freeze)):
            setup()
            for generation in spent:
                spent[generation], count[generation] = 0.0, 0
            times = []
            for text in texts * 5:
                start = time.perf_counter()
                parse(text)
                times.append((time.perf_counter() - start) * 1000)
            rows.append({"objects": label, "parses": len(times),
                         "full collections": count[2], "full ms each": spent[2] / max(count[2], 1),
                         "young ms/parse": (spent[0] + spent[1]) / len(times),
                         "parse p50": percentile(times, 0.5), "parse p95": percentile(times, 0.95),
                         "parse max": max(times)})
    finally:
        gc.callbacks.remove(watch)
        gc.freeze()
    return rows


def served(model: Path, texts: list[str]) -> dict[str, dict[str, float]]:
    longest = longest_message()
    short = [t for t, _ in load_nlu_examples(heldout_files())]
    out: dict[str, dict[str, float]] = {}
    with rasa_server(model, OUT / "logs" / "parse") as (url, _service):
        for text in short[:5] + texts[:2]:  # warm-up, not measured
            post_json(f"{url}/model/parse", {"text": text})
        for label, asked in (("longest_message() x40", [longest] * LONGEST_REPEATS),
                             (f"{SLICES} slices x2", texts * 2),
                             (f"held-out ({len(short)}, short)", short)):
            times = []
            for text in asked:
                start = time.perf_counter()
                post_json(f"{url}/model/parse", {"text": text})
                times.append((time.perf_counter() - start) * 1000)
            out[label] = {"p50": percentile(times, 0.5), "p95": percentile(times, 0.95),
                          "max": max(times)}
    return out


def main() -> dict:
    model = model_path()
    texts = slices()
    rows, collected = stages(model, texts)
    shown = [{k: (f"{v:.2f}" if isinstance(v, float) else v) for k, v in row.items()}
             for row in rows]
    print(f"\nParse bench, in-process on {SLICES} messages of 5,000 characters (ms; 'plain' is the"
          " straightforward path, run in this same command):")
    print(table(shown, ["stage", "ours median", "ours p95", "plain median", "plain p95",
                        "ratio"]))
    print("\nGarbage collection in Rasa's graph (ms), 100 parses of the slices:")
    print(table([{k: (f"{v:.1f}" if isinstance(v, float) else v) for k, v in row.items()}
                 for row in collected],
                ["objects", "parses", "full collections", "full ms each", "young ms/parse",
                 "parse p50", "parse p95", "parse max"]))
    http = served(model, texts)
    print("\nPOST /model/parse on a real `rasa run` (ms, client round trip; issue 13 bound:"
          " p95 <= 15 at 5,000 characters):")
    print(table([{"messages": k, **{m: f"{v:.1f}" for m, v in row.items()}}
                 for k, row in http.items()], ["messages", "p50", "p95", "max"]))
    result = {"stages": rows, "collections": collected, "served": http, "model": str(model)}
    write_json(OUT / "parse.json", result)
    return result


if __name__ == "__main__":
    main()
