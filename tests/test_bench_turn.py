"""The turn bench's arithmetic: spans, cost centres, latency figures (nothing here is timed)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.profiling import report
from bench.profiling.hooks import CALL_HTTP, GUARD, HTTP, NLU, SDK_ACTION, SDK_HTTP
from bench.profiling.spans import Turn
from bench.turn import (
    Customer,
    growth,
    latency_row,
    long_script,
    message,
    per_turn_medians,
    window_median,
)


class FakeClock:
    """A clock the test moves by hand, in seconds."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_span_keeps_only_its_own_time_and_the_spans_add_up_to_the_request() -> None:
    clock = FakeClock()
    turn = Turn("rasa", "/webhooks/rest/webhook", clock=clock)
    root = turn.enter("request", HTTP)
    clock.now += 0.001
    nlu = turn.enter("nlu", NLU)
    clock.now += 0.010
    turn.exit(nlu)
    guard = turn.enter("guard", GUARD)
    clock.now += 0.002
    turn.exit(guard)
    clock.now += 0.003
    turn.exit(root)

    spans = turn.record()["spans"]
    assert spans["nlu"]["ms"] == pytest.approx(10)
    assert spans["guard"]["ms"] == pytest.approx(2)
    assert spans["request"]["ms"] == pytest.approx(4)  # 16 ms less the 12 inside
    assert spans["request"]["incl_ms"] == pytest.approx(16)
    assert sum(s["ms"] for s in spans.values()) == pytest.approx(16)


def test_repeated_spans_are_summed_and_counted() -> None:
    clock = FakeClock()
    turn = Turn("rasa", "/", clock=clock)
    for _ in range(3):
        frame = turn.enter("policies", "policies")
        clock.now += 0.002
        turn.exit(frame)

    assert turn.record()["spans"]["policies"] == {"group": "policies", "ms": pytest.approx(6),
                                                 "incl_ms": pytest.approx(6), "n": 3}


def test_closing_a_span_closes_what_was_left_open_inside_it() -> None:
    clock = FakeClock()
    turn = Turn("rasa", "/", clock=clock)
    root = turn.enter("request", HTTP)
    turn.enter("nlu", NLU)  # never exited (an exception escaped past the wrapper)
    clock.now += 0.005
    turn.exit(root)

    spans = turn.record()["spans"]
    assert spans["nlu"]["ms"] == pytest.approx(5)
    assert spans["request"]["incl_ms"] == pytest.approx(5)


def test_the_request_ends_when_the_reply_was_sent_if_that_is_known() -> None:
    clock = FakeClock()
    turn = Turn("actions", "/webhook", clock=clock)
    root = turn.enter("request", SDK_HTTP)
    clock.now += 0.004
    sent = clock.now
    clock.now += 0.010  # Sanic's own after-work
    turn.exit(root, sent)

    assert turn.record()["spans"]["request"]["incl_ms"] == pytest.approx(4)


@pytest.mark.parametrize(("actions", "expected"), [
    (["action_answer_notice", "action_listen"], "notice"),
    (["request_form", "action_listen"], "form"),
    (["validate_request_form"], "form"),
    (["utter_greet", "action_listen"], "other"),
])
def test_a_turn_is_named_by_the_actions_it_ran(actions: list[str], expected: str) -> None:
    assert report.kind(actions) == expected


def _rasa_turn(sender: str, actions: list[str], calls: list[dict], spans: dict) -> dict:
    return {"role": "rasa", "path": "/webhooks/rest/webhook", "calls": calls,
            "meta": {"sender": sender, "actions": actions, "events": 10},
            "spans": spans}


def _span(group: str, ms: float, incl: float | None = None) -> dict:
    return {"group": group, "ms": ms, "incl_ms": ms if incl is None else incl, "n": 1}


def test_an_action_call_is_joined_with_the_action_servers_side_and_nothing_counts_twice(
        tmp_path: Path) -> None:
    rasa = _rasa_turn("a", ["action_answer_notice", "action_listen"],
                      [{"id": "7-1", "action": "action_answer_notice", "bytes": 3000,
                        "domain_bytes": 1000, "round_trip_ms": 12.0}],
                      {"request": _span(HTTP, 1.0, 30.0), "nlu": _span(NLU, 17.0),
                       "endpoint.request": _span(CALL_HTTP, 12.0)})
    server = {"role": "actions", "path": "/webhook", "calls": [],
              "meta": {"call": "7-1", "action": "action_answer_notice"},
              "spans": {"request": _span(SDK_HTTP, 2.0, 9.0),
                        "executor.run": _span(SDK_ACTION, 7.0)}}
    (tmp_path / "rasa-7.jsonl").write_text(json.dumps(rasa) + "\n", encoding="utf-8")
    (tmp_path / "actions-8.jsonl").write_text(json.dumps(server) + "\n", encoding="utf-8")

    turns, calls = report.read_records(tmp_path)
    [cost] = report.turn_costs(turns, calls)

    assert cost.kind == "notice" and cost.position == 1
    assert cost.groups[CALL_HTTP] == pytest.approx(3.0)  # 12 ms round trip, 9 of them served
    assert cost.groups[SDK_ACTION] == pytest.approx(7.0)
    assert sum(cost.groups.values()) == pytest.approx(cost.total_ms)
    assert cost.calls[0]["server_ms"] == pytest.approx(9.0)


def test_turns_are_numbered_per_conversation_and_grouped_early_and_late() -> None:
    turns = []
    for sender, count in (("a", 3), ("b", 45)):
        for _ in range(count):
            turns.append(_rasa_turn(sender, ["action_answer_notice"], [],
                                    {"request": _span(HTTP, 2.0)}))
    costs = report.turn_costs(turns, {})
    cells = {c.label: c for c in report.cells(costs, early=12, late=40)}

    assert [c.position for c in costs if c.sender == "a"] == [1, 2, 3]
    assert cells["notice early"].turns == 3 + 12
    assert cells["notice late"].turns == 6
    assert cells["notice late"].position == pytest.approx(42.5)
    assert cells["form early"].turns == 0


def test_latency_row_gives_throughput_over_the_window_and_percentiles() -> None:
    row = latency_row([float(ms) for ms in range(1, 101)], errors=2, seconds=10)

    assert row["turns"] == 100
    assert row["turns_per_s"] == pytest.approx(10)
    assert row["p50_ms"] == pytest.approx(50.5)
    assert row["p95_ms"] == pytest.approx(95.05)
    assert row["errors"] == 2


def test_the_long_conversation_figures_use_the_median_per_turn_over_the_repeats() -> None:
    runs = [[10.0 + k for k in range(60)], [30.0 + k for k in range(60)],
            [20.0 + k for k in range(60)]]
    per_turn = per_turn_medians(runs)

    assert per_turn[:2] == [20.0, 21.0]
    assert window_median(per_turn, 1, 10) == pytest.approx(24.5)
    figures = growth(per_turn)
    assert figures["turn5_ms"] == pytest.approx(24.0)  # turns 3–7
    assert figures["turn50_ms"] == pytest.approx(69.0)  # turns 48–52
    assert figures["turn50_over_turn5"] == pytest.approx(69 / 24)


def test_turn_50_of_a_long_conversation_asks_what_turn_5_asked() -> None:
    lines = [f"質問{k}" for k in range(176)]

    texts = long_script(lines, 120, 60)

    assert len(texts) == 60
    assert texts[:2] == ["質問120", "質問121"]
    assert texts[47:52] == texts[2:7] == ["質問122", "質問123", "質問124", "質問125", "質問126"]
    assert texts[46] == "質問166" and texts[52] == "質問172" and texts[59] == "質問3"


def test_a_customer_starts_a_new_conversation_when_the_script_ends() -> None:
    customer = Customer(["こんにちは", "はい"])

    assert [customer.next_text() for _ in range(3)] == [
        ("こんにちは", True), ("はい", False), ("こんにちは", True)]


def test_a_message_carries_the_session_token_only_when_the_channel_issued_one() -> None:
    assert message("abc", "はい", "t0k") == {"sender": "abc", "message": "はい",
                                             "session_token": "t0k"}
    assert message("abc", "hi", None) == {"sender": "abc", "message": "hi"}
