"""NLU bench: our pipeline against two baselines on the same train / held-out split.

Each pipeline is trained on data/nlu, served by a real `rasa run --enable-api`, and asked every
held-out message (eval/nlu_heldout_*.yml, never trained on) through POST /model/parse.
Printed per pipeline: intent macro-F1 and accuracy, out_of_scope recall, in-scope false
rejection, training time, /model/parse latency p50/p95 and the server's resident memory; plus
the time of a full `rasa train` (NLU and dialogue) of config.yml. Rasa's own reports
(`rasa test nlu`) land in bench/out/reports/<pipeline>/. A fourth row is config.yml without the
reading features, so that the bench shows what they are worth.

Real customers' wording (eval/realworld/dev.yml: long stories, quoted wishes, colloquial and
headline forms, other companies' names; never trained on) is asked the same way and scored on
its own: macro-F1 over the contract labels (a notice question counts by its top-level section),
accuracy, out_of_scope recall, false rejection, and macro-F1 per length bucket (≤ 30, 31–100,
> 100 characters). eval/realworld/final.yml, the fifth nobody tunes against, is asked only with
MADOGUCHI_BENCH_FINAL=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml
from sklearn.metrics import accuracy_score, f1_score

from bench.common import (
    OUT,
    ROOT,
    load_nlu_examples,
    percentile,
    post_json,
    rasa_server,
    rss_mb,
    table,
    write_json,
)
from madoguchi.runtime.training import rasa_train

PIPELINES = {
    "madoguchi (config.yml)": ROOT / "config.yml",
    "baseline a: char n-grams": ROOT / "bench/configs/char_ngrams.yml",
    "baseline b: spaCy+SudachiPy": ROOT / "bench/configs/spacy_sudachi.yml",
}
CLASSIFIER = "madoguchi.rasa_adapters.nlu.intent_classifier.JapaneseIntentClassifier"
ABLATION = "ablation: ours without readings"
REQUEST_LABELS = {"purpose_notice", "disclosure", "correction", "suspension", "third_party_stop",
                  "marketing_optout"}
BUCKETS = (("<=30", 0, 30), ("31-100", 31, 100), (">100", 101, 10**9))
REJECTED = {"out_of_scope", "nlu_fallback"}
# Rasa caches trained components between runs; timings must not profit from that.
UNCACHED = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}


def heldout_files() -> list[Path]:
    return sorted((ROOT / "eval").glob("nlu_heldout_*.yml"))


def intent_of_label(label: str) -> str:
    """The real-world set's label as the intent that answers it (notice:2.4 → notice_2_4)."""
    if label in REQUEST_LABELS:
        return f"request_{label}"
    if label.startswith("notice:"):
        return "notice_" + label.split(":", 1)[1].replace(".", "_")
    return label


def top_level(intent: str) -> str:
    """notice_2_4 → notice_2: a real customer's notice question counts by its section."""
    parts = intent.split("_")
    return "_".join(parts[:2]) if intent.startswith("notice_") and parts[1].isdigit() else intent


def realworld_examples(name: str) -> list[tuple[str, str]]:
    rows = yaml.safe_load((ROOT / "eval" / "realworld" / f"{name}.yml").read_text("utf-8"))
    return [(row["text"], intent_of_label(row["label"])) for row in rows]


def realworld_scores(examples: list[tuple[str, str]], predicted: list[str]) -> dict[str, float]:
    gold = [top_level(g) for _, g in examples]
    pred = [top_level(p) for p in predicted]
    out = scores(gold, pred)
    for name, low, high in BUCKETS:
        idx = [i for i, (t, _) in enumerate(examples) if low <= len(t) <= high]
        out[f"f1 {name}"] = scores([gold[i] for i in idx], [pred[i] for i in idx])["macro_f1"]
    out["exact_acc"] = accuracy_score([g for _, g in examples], predicted)
    return out


def train_nlu(config: Path, out_dir: Path, name: str) -> tuple[Path, float]:
    rasa = Path(sys.executable).parent / "rasa"
    start = time.perf_counter()
    subprocess.run(
        [str(rasa), "train", "nlu", "--config", str(config), "--nlu", str(ROOT / "data/nlu"),
         "--out", str(out_dir), "--fixed-model-name", name],
        cwd=ROOT, check=True, stdout=subprocess.DEVNULL, env=UNCACHED,
    )
    return out_dir / f"{name}.tar.gz", time.perf_counter() - start


def scores(gold: list[str], predicted: list[str]) -> dict[str, float]:
    labels = sorted(set(gold))
    oos = [p for g, p in zip(gold, predicted, strict=True) if g == "out_of_scope"]
    in_scope = [p for g, p in zip(gold, predicted, strict=True) if g != "out_of_scope"]
    return {
        "macro_f1": f1_score(gold, predicted, labels=labels, average="macro", zero_division=0),
        "accuracy": accuracy_score(gold, predicted),
        "oos_recall": sum(p == "out_of_scope" for p in oos) / max(len(oos), 1),
        "false_rejection": sum(p in REJECTED for p in in_scope) / max(len(in_scope), 1),
    }


def longest_message() -> str:
    """A message of the channel's maximum length, made of real clauses, for the latency bound."""
    from madoguchi.rasa_adapters.channels import MAX_MESSAGE_CHARS

    texts = [t for t, _ in realworld_examples("dev")]
    joined = "".join(texts)
    while len(joined) < MAX_MESSAGE_CHARS:
        joined += joined
    return joined[:MAX_MESSAGE_CHARS]


def run_pipeline(label: str, config: Path, examples: list[tuple[str, str]],
                 realworld: dict[str, list[tuple[str, str]]]) -> dict:
    slug = config.stem
    models = OUT / "models"
    model, train_seconds = train_nlu(config, models, f"nlu-{slug}")
    latencies: list[float] = []
    predicted: list[str] = []
    real_predicted: dict[str, list[str]] = {}
    longest: list[float] = []
    with rasa_server(model, OUT / "logs" / slug) as (url, service):
        for text, _ in examples[:5]:  # warm-up, not measured
            post_json(f"{url}/model/parse", {"text": text})
        for text, _ in examples:
            start = time.perf_counter()
            parsed = post_json(f"{url}/model/parse", {"text": text})
            latencies.append((time.perf_counter() - start) * 1000)
            predicted.append(parsed["intent"]["name"])
        for name, real in realworld.items():
            real_predicted[name] = [
                post_json(f"{url}/model/parse", {"text": text})["intent"]["name"]
                for text, _ in real
            ]
        long_text = longest_message()
        for _ in range(20):
            start = time.perf_counter()
            post_json(f"{url}/model/parse", {"text": long_text})
            longest.append((time.perf_counter() - start) * 1000)
        memory = rss_mb(service.process.pid) if service.process else float("nan")
    gold = [intent for _, intent in examples]
    errors = [
        {"text": t, "gold": g, "predicted": p}
        for (t, g), p in zip(examples, predicted, strict=True) if g != p
    ]
    reports = OUT / "reports" / slug
    heldout = OUT / "heldout"  # `rasa test nlu` takes one file or folder
    heldout.mkdir(parents=True, exist_ok=True)
    for path in heldout_files():
        shutil.copy(path, heldout / path.name)
    rasa = Path(sys.executable).parent / "rasa"
    subprocess.run(
        [str(rasa), "test", "nlu", "--model", str(model), "--nlu", str(heldout),
         "--out", str(reports)],
        cwd=ROOT, check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    write_json(reports / "bench_errors.json", errors)
    real_rows = {
        name: {"pipeline": label, **realworld_scores(realworld[name], real_predicted[name])}
        for name in realworld
    }
    for name, real in realworld.items():
        write_json(reports / f"realworld_{name}_errors.json", [
            {"text": t, "gold": g, "predicted": p}
            for (t, g), p in zip(real, real_predicted[name], strict=True)
            if top_level(g) != top_level(p)
        ])
    return {
        "pipeline": label,
        "realworld": real_rows,
        "p95_ms_longest": percentile(longest, 0.95),
        **scores(gold, predicted),
        "train_s": train_seconds,
        "p50_ms": percentile(latencies, 0.5),
        "p95_ms": percentile(latencies, 0.95),
        "rss_mb": memory,
        "errors": len(errors),
    }


def full_train_seconds() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        rasa_train(ROOT, ROOT / "config.yml", Path(tmp), "full", env=UNCACHED)
        return time.perf_counter() - start


def write_ablation_config() -> Path:
    """config.yml with the reading features left out; everything else as it is."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline = [dict(c) for c in config["pipeline"]]
    ours = [c for c in pipeline if c["name"] == CLASSIFIER]
    if not ours or "readings" not in ours[0].get("features", ["readings"]):
        raise SystemExit(f"config.yml has no {CLASSIFIER} reading features: nothing to ablate")
    ours[0]["features"] = [f for f in ours[0].get("features", []) if f != "readings"]
    path = OUT / "configs" / "without_readings.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({**config, "pipeline": pipeline}, allow_unicode=True),
                    encoding="utf-8")
    return path


def save_blank_spacy_ja() -> None:
    """Baseline (b) loads spaCy's blank Japanese pipeline (SudachiPy) from this folder."""
    import spacy

    OUT.mkdir(parents=True, exist_ok=True)  # a fresh checkout has no bench/out yet
    spacy.blank("ja").to_disk(OUT / "spacy_blank_ja")


def main() -> dict:
    save_blank_spacy_ja()
    examples = load_nlu_examples(heldout_files())
    if not examples:
        raise SystemExit("no held-out examples in eval/nlu_heldout_*.yml")
    realworld = {"dev": realworld_examples("dev")}
    if os.environ.get("MADOGUCHI_BENCH_FINAL") == "1":
        realworld["final"] = realworld_examples("final")
    pipelines = {**PIPELINES, ABLATION: write_ablation_config()}
    rows = [run_pipeline(label, config, examples, realworld)
            for label, config in pipelines.items()]
    full = full_train_seconds()
    shown = [
        {k: (f"{v:.3f}" if k in {"macro_f1", "accuracy", "oos_recall", "false_rejection"}
             else f"{v:.1f}" if isinstance(v, float) else v) for k, v in row.items()}
        for row in rows
    ]
    print(f"\nNLU bench: {len(examples)} held-out messages, {len(set(g for _, g in examples))}"
          " intents; baseline rows are the named baselines run in this same command")
    print(table(shown, ["pipeline", "macro_f1", "accuracy", "oos_recall", "false_rejection",
                        "train_s", "p50_ms", "p95_ms", "p95_ms_longest", "rss_mb", "errors"]))
    ours = rows[0]["macro_f1"]
    for row in rows[1:]:
        print(f"macro-F1 ours / {row['pipeline']}: {ours / max(row['macro_f1'], 1e-9):.3f}")
    for name, real in realworld.items():
        real_rows = [
            {k: (f"{v:.3f}" if isinstance(v, float) else v)
             for k, v in row["realworld"][name].items()}
            for row in rows
        ]
        print(f"\nReal customers' wording (eval/realworld/{name}.yml, {len(real)} messages;"
              " notice questions by top-level section):")
        print(table(real_rows, ["pipeline", "macro_f1", "accuracy", "oos_recall",
                                "false_rejection", "f1 <=30", "f1 31-100", "f1 >100",
                                "exact_acc"]))
        ours_real = rows[0]["realworld"][name]["macro_f1"]
        for row in rows[1:]:
            theirs = row["realworld"][name]["macro_f1"]
            print(f"real-world macro-F1 ours - {row['pipeline']}: {ours_real - theirs:+.3f}")
    print(f"full `rasa train` (NLU + dialogue) of config.yml: {full:.1f} s")
    result = {"pipelines": rows, "full_train_s": full, "examples": len(examples),
              "realworld": {name: len(real) for name, real in realworld.items()}}
    write_json(OUT / "nlu.json", result)
    return result


if __name__ == "__main__":
    main()
