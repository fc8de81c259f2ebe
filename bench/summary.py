"""`python -m bench summary`: the ticket summary against a written reference, and a baseline.

On eval/summaries.yml (conversations with an operator's reference summary and key facts):
- key-fact recall: the share of key facts the summary states (a fact is stated when one of its
  `|` alternatives occurs in the summary text, after NFKC and without white space);
- ROUGE-L: the F-measure of the longest common subsequence of characters between the summary
  and the reference (characters, since Japanese has no spaces between words).
Ours is `Summary.as_text()`; the baseline is the customer's first message. Saves
bench/out/summary.json.
"""

from __future__ import annotations

import statistics
import time
import unicodedata
from pathlib import Path
from typing import Any

import yaml

from bench.common import OUT, ROOT, table, write_json
from madoguchi.assist.summary import summarize

EVAL_FILE = ROOT / "eval" / "summaries.yml"


def _key(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text).split())


def lcs_length(a: str, b: str) -> int:
    """Length of the longest common subsequence (one row of the table at a time)."""
    if len(a) < len(b):
        a, b = b, a
    previous = [0] * (len(b) + 1)
    for ch in a:
        current = [0]
        for j, other in enumerate(b, 1):
            current.append(previous[j - 1] + 1 if ch == other else max(previous[j], current[-1]))
        previous = current
    return previous[-1]


def rouge_l(candidate: str, reference: str, beta: float = 1.0) -> float:
    """Character-level ROUGE-L F-measure (beta = 1: precision and recall weigh alike)."""
    c, r = _key(candidate), _key(reference)
    if not c or not r:
        return 0.0
    lcs = lcs_length(c, r)
    if lcs == 0:
        return 0.0
    precision, recall = lcs / len(c), lcs / len(r)
    return (1 + beta**2) * precision * recall / (recall + beta**2 * precision)


def fact_recall(candidate: str, facts: list[str]) -> float:
    if not facts:
        return 1.0
    text = _key(candidate)
    hits = sum(any(_key(alt) in text for alt in fact.split("|")) for fact in facts)
    return hits / len(facts)


def load_conversations(path: Path = EVAL_FILE) -> list[dict[str, Any]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def customer_turns(conversation: dict[str, Any]) -> list[str]:
    return [str(t["customer"]) for t in conversation["turns"] if "customer" in t]


def main() -> None:
    conversations = load_conversations()
    systems: dict[str, dict[str, list[float]]] = {
        "ours": {"recall": [], "rouge_l": [], "ms": []},
        "baseline_first_message": {"recall": [], "rouge_l": [], "ms": []},
    }
    per_conversation = []
    summarize(["ウォームアップ"])  # loads the tokenizer, spaCy and the cue files once
    for conv in conversations:
        turns = customer_turns(conv)
        start = time.perf_counter()
        ours = summarize(turns, conv.get("ticket") or {}).as_text()
        elapsed = (time.perf_counter() - start) * 1000
        baseline = turns[0] if turns else ""
        row: dict[str, Any] = {"id": conv["id"]}
        for name, text, ms in (("ours", ours, elapsed), ("baseline_first_message", baseline, 0.0)):
            recall = fact_recall(text, conv["key_facts"])
            rouge = rouge_l(text, conv["reference"])
            systems[name]["recall"].append(recall)
            systems[name]["rouge_l"].append(rouge)
            systems[name]["ms"].append(ms)
            row[name] = {"recall": round(recall, 3), "rouge_l": round(rouge, 3)}
        row["summary"] = ours
        per_conversation.append(row)

    rows = []
    for name, values in systems.items():
        rows.append({
            "system": name,
            "conversations": len(values["recall"]),
            "key_fact_recall": f"{statistics.mean(values['recall']):.3f}",
            "rouge_l_f": f"{statistics.mean(values['rouge_l']):.3f}",
            "median_ms": f"{statistics.median(values['ms']):.1f}",
        })
    print(table(rows, ["system", "conversations", "key_fact_recall", "rouge_l_f", "median_ms"]))
    missed = [
        (row["id"], row["ours"]["recall"]) for row in per_conversation if row["ours"]["recall"] < 1
    ]
    if missed:
        print("ours below full recall: " + ", ".join(f"{i} ({r:.2f})" for i, r in missed))
    write_json(OUT / "summary.json", {"systems": rows, "conversations": per_conversation})
    print(f"saved {OUT / 'summary.json'}")


if __name__ == "__main__":
    main()
