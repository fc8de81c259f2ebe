"""Notice bench: does a question about the notice get the right section, through the real servers?

Every question of eval/notice_questions.yml (held out, never trained on) is asked in a new
conversation through POST /webhooks/rest/webhook; the `notice_section` slot and the reply's
citation are read back. Printed: top-level and exact sub-item accuracy, with and without the
retrieval second chance, whether every citation matches its slot, and the retrieval
threshold sweep (held-out notice questions against held-out out-of-scope messages) that chose
the threshold in actions/notice.py.
"""

from __future__ import annotations

import uuid

import yaml

from bench.common import OUT, ROOT, get_json, load_nlu_examples, post_json, table, write_json
from madoguchi.notice.loader import load_notice
from madoguchi.notice.retrieval import SectionRetriever
from madoguchi.runtime.launcher import Launcher, action_service, free_port, rasa_service
from madoguchi.runtime.training import ensure_model


def questions() -> list[tuple[str, str]]:
    data = yaml.safe_load((ROOT / "eval" / "notice_questions.yml").read_text(encoding="utf-8"))
    return [(q["text"], str(q["section"])) for q in data]


def ask_all(rasa_url: str, items: list[tuple[str, str]]) -> list[dict]:
    notice = load_notice()
    results = []
    for text, expected in items:
        sender = f"bench-{uuid.uuid4().hex[:10]}"
        reply = post_json(f"{rasa_url}/webhooks/rest/webhook", {"sender": sender, "message": text})
        tracker = get_json(f"{rasa_url}/conversations/{sender}/tracker")
        got = tracker["slots"].get("notice_section")
        said = "\n".join(m.get("text", "") for m in reply)
        cited = notice.get(got).citation if got in notice else None
        results.append({
            "text": text, "expected": expected, "got": got,
            "citation_ok": got is None or (cited is not None and f"出典: {cited}" in said),
        })
    return results


def accuracy(results: list[dict]) -> dict[str, float]:
    top = sum(r["got"] is not None and r["got"].split(".")[0] == r["expected"].split(".")[0]
              for r in results)
    exact = sum(r["got"] == r["expected"] for r in results)
    return {"top_level": top / len(results), "sub_item": exact / len(results),
            "citations_ok": sum(r["citation_ok"] for r in results) / len(results)}


def threshold_sweep() -> list[dict]:
    retriever = SectionRetriever(load_notice())
    in_scope = questions()
    oos = [t for t, i in load_nlu_examples(sorted((ROOT / "eval").glob("nlu_heldout_*.yml")))
           if i == "out_of_scope"]
    rows = []
    for threshold in (0.2, 0.25, 0.3, 0.35, 0.4, 0.5, 0.6):
        right = sum(retriever.best(t, threshold) == s for t, s in in_scope)
        top = sum((retriever.best(t, threshold) or "x").split(".")[0] == s.split(".")[0]
                  for t, s in in_scope)
        wrongly = sum(retriever.best(t, threshold) is not None for t in oos)
        rows.append({"threshold": threshold, "notice_top": f"{top / len(in_scope):.3f}",
                     "notice_exact": f"{right / len(in_scope):.3f}",
                     "oos_answered": f"{wrongly / max(len(oos), 1):.3f}"})
    return rows


def main() -> dict:
    items = questions()
    model = ensure_model(ROOT, ROOT / "config.yml", link_as=None)
    work = OUT / "notice"
    work.mkdir(parents=True, exist_ok=True)
    rasa_port, action_port = free_port(), free_port()
    endpoints = work / "endpoints.yml"
    endpoints.write_text(f'action_endpoint:\n  url: "http://127.0.0.1:{action_port}/webhook"\n',
                         encoding="utf-8")
    figures = {}
    launcher = Launcher(ROOT, work / "logs", env={"TF_CPP_MIN_LOG_LEVEL": "2"})
    rasa = launcher.start(rasa_service(ROOT, model, endpoints, port=rasa_port))
    try:
        for label, setting in (("with retrieval", "0.35"), ("without retrieval", "off")):
            actions = action_service(ROOT, port=action_port)
            actions.env = {"MADOGUCHI_RETRIEVAL_THRESHOLD": setting}
            launcher.start(actions)
            launcher.wait_ready([rasa, actions], timeout=300)
            results = ask_all(f"http://127.0.0.1:{rasa_port}", items)
            figures[label] = accuracy(results)
            write_json(work / f"results_{setting}.json", results)
            launcher.stop(actions)
            launcher.services.remove(actions)
    finally:
        launcher.stop_all()
    rows = [{"run": k, **{m: f"{v:.3f}" for m, v in f.items()}} for k, f in figures.items()]
    print(f"\nNotice bench: {len(items)} held-out questions through the real servers")
    print(table(rows, ["run", "top_level", "sub_item", "citations_ok"]))
    sweep = threshold_sweep()
    print("\nRetrieval threshold sweep (BM25 alone; the second chance uses 0.35):")
    print(table(sweep, ["threshold", "notice_top", "notice_exact", "oos_answered"]))
    result = {"figures": figures, "sweep": sweep}
    write_json(OUT / "notice.json", result)
    return result


if __name__ == "__main__":
    main()
