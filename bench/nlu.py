"""NLU bench: our pipeline against two baselines on the same train / held-out split.

Each pipeline is trained on data/nlu, served by a real `rasa run --enable-api`, and asked every
held-out message (eval/nlu_heldout_*.yml, never trained on) through POST /model/parse.
Printed per pipeline: intent macro-F1 and accuracy, out_of_scope recall, in-scope false
rejection, training time, /model/parse latency p50/p95 and the server's resident memory; plus
the time of a full `rasa train` (NLU and dialogue) of config.yml. Rasa's own reports
(`rasa test nlu`) land in bench/out/reports/<pipeline>/. A fourth row is config.yml without the
reading featurizer, so that the bench shows what that component is worth.
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
READING_FEATURIZER = "madoguchi.rasa_adapters.nlu.reading_featurizer.ReadingFeaturizer"
ABLATION = "ablation: ours without readings"
REJECTED = {"out_of_scope", "nlu_fallback"}
# Rasa caches trained components between runs; timings must not profit from that.
UNCACHED = {**os.environ, "RASA_MAX_CACHE_SIZE": "0"}


def heldout_files() -> list[Path]:
    return sorted((ROOT / "eval").glob("nlu_heldout_*.yml"))


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


def run_pipeline(label: str, config: Path, examples: list[tuple[str, str]]) -> dict:
    slug = config.stem
    models = OUT / "models"
    model, train_seconds = train_nlu(config, models, f"nlu-{slug}")
    latencies: list[float] = []
    predicted: list[str] = []
    with rasa_server(model, OUT / "logs" / slug) as (url, service):
        for text, _ in examples[:5]:  # warm-up, not measured
            post_json(f"{url}/model/parse", {"text": text})
        for text, _ in examples:
            start = time.perf_counter()
            parsed = post_json(f"{url}/model/parse", {"text": text})
            latencies.append((time.perf_counter() - start) * 1000)
            predicted.append(parsed["intent"]["name"])
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
    return {
        "pipeline": label,
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
    """config.yml with the reading featurizer left out; everything else as it is."""
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    pipeline = [c for c in config["pipeline"] if c["name"] != READING_FEATURIZER]
    if len(pipeline) == len(config["pipeline"]):
        raise SystemExit(f"config.yml has no {READING_FEATURIZER}: the ablation would be a copy")
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
    pipelines = {**PIPELINES, ABLATION: write_ablation_config()}
    rows = [run_pipeline(label, config, examples) for label, config in pipelines.items()]
    full = full_train_seconds()
    shown = [
        {k: (f"{v:.3f}" if k in {"macro_f1", "accuracy", "oos_recall", "false_rejection"}
             else f"{v:.1f}" if isinstance(v, float) else v) for k, v in row.items()}
        for row in rows
    ]
    print(f"\nNLU bench: {len(examples)} held-out messages, {len(set(g for _, g in examples))}"
          " intents; baseline rows are the named baselines run in this same command")
    print(table(shown, ["pipeline", "macro_f1", "accuracy", "oos_recall", "false_rejection",
                        "train_s", "p50_ms", "p95_ms", "rss_mb", "errors"]))
    ours = rows[0]["macro_f1"]
    for row in rows[1:]:
        print(f"macro-F1 ours / {row['pipeline']}: {ours / max(row['macro_f1'], 1e-9):.3f}")
    print(f"full `rasa train` (NLU + dialogue) of config.yml: {full:.1f} s")
    result = {"pipelines": rows, "full_train_s": full, "examples": len(examples)}
    write_json(OUT / "nlu.json", result)
    return result


if __name__ == "__main__":
    main()
