"""Specification: the policies predict exactly as Rasa's do when given only the states they read.

fast_paths (8.) copies for MemoizationPolicy its last `max_history` states and for RulePolicy its
longest rule plus one, instead of every state of the conversation. Long conversations are played
against the trained model's own policies (the dialogue chooses each next action the way the
processor would; a form that is predicted becomes active and a customer may turn it down), and
at every prediction each policy's answer is compared with its answer when it is given every
state, as Rasa gives them.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Iterator
from typing import Any

import pytest
from rasa.core.agent import load_agent
from rasa.core.policies.policy import Policy, PolicyPrediction
from rasa.engine.constants import PLACEHOLDER_TRACKER
from rasa.shared.core.constants import ACTION_LISTEN_NAME
from rasa.shared.core.events import ActionExecuted, ActiveLoop, UserUttered
from rasa.shared.core.generator import TrackerWithCachedStates
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.log_utils import configure_structlog

from madoguchi.infra.settings import project_root
from madoguchi.rasa_adapters import fast_paths
from madoguchi.runtime.training import ensure_model

ROOT = project_root()
POLICIES = ("run_MemoizationPolicy0", "run_RulePolicy1")


@pytest.fixture(scope="module")
def agent() -> Any:
    configure_structlog(logging.WARNING)
    return asyncio.run(load_agent(model_path=str(ensure_model(ROOT, ROOT / "config.yml",
                                                              link_as=None))))


def predictions(agent: Any, tracker: DialogueStateTracker) -> dict[str, PolicyPrediction]:
    runner = agent.processor.graph_runner
    return runner.run(inputs={PLACEHOLDER_TRACKER: tracker}, targets=list(POLICIES))


def as_rasa(agent: Any, tracker: DialogueStateTracker,
            monkeypatch: pytest.MonkeyPatch) -> dict[str, PolicyPrediction]:
    with monkeypatch.context() as patch:
        patch.setattr(Policy, "_prediction_states", fast_paths.prediction_states.rasa_original)
        return predictions(agent, tracker)


def answer(prediction: PolicyPrediction) -> tuple[Any, ...]:
    return (prediction.probabilities, prediction.policy_name, prediction.events,
            prediction.optional_events, prediction.is_end_to_end_prediction,
            prediction.is_no_user_prediction, prediction.hide_rule_turn,
            prediction.action_metadata)


def conversation(agent: Any, seed: int, turns: int) -> Iterator[DialogueStateTracker]:
    """A conversation as the dialogue would run it, each tracker before a prediction."""
    domain = agent.domain
    rng = random.Random(seed)
    forms = set(domain.form_names)
    tracker = DialogueStateTracker.from_events(
        f"states-{seed}", [ActionExecuted(ACTION_LISTEN_NAME)], domain.slots)
    for turn in range(turns):
        intent = rng.choice(domain.intents)
        tracker.update(UserUttered(f"turn {turn}", {"name": intent, "confidence": 0.9}))
        for _ in range(4):
            yield tracker
            best = predictions(agent, tracker)
            name, score = max(
                ((domain.action_names_or_texts[i], p) for prediction in best.values()
                 for i, p in enumerate(prediction.probabilities)),
                key=lambda pair: pair[1],
            )
            if score <= 0:
                name = ACTION_LISTEN_NAME
            tracker.update(ActionExecuted(name))
            if name in forms and tracker.active_loop_name != name:
                tracker.update(ActiveLoop(name))
            elif name in forms and rng.random() < 0.3:
                tracker.update(ActiveLoop(None))
            if name == ACTION_LISTEN_NAME:
                break
        else:
            tracker.update(ActionExecuted(ACTION_LISTEN_NAME))


def rule_policy(agent: Any) -> Any:
    return agent.processor.graph_runner._instantiated_nodes["run_RulePolicy1"]._component


def rule_found(agent: Any, tracker: DialogueStateTracker) -> tuple[Any, ...]:
    """What RulePolicy's search of its rules finds for the latest intent, whatever a loop or a
    default action would take first: the action, the rule (its states as JSON, or the states'
    JSON when no rule applies) and whether a loop returns from its unhappy path."""
    return rule_policy(agent)._find_action_from_rules(tracker, agent.domain, False)


def test_each_policy_answers_as_with_every_state(agent, monkeypatch):
    compared, longest_rules_applied = 0, 0
    longest = fast_paths._longest_rule(rule_policy(agent))
    not_in_stories = set(rule_policy(agent).lookup["rules_not_in_stories"])
    trackers = (tracker for seed in (1, 2, 3) for tracker in conversation(agent, seed, turns=40))
    for tracker in trackers:
        fast = predictions(agent, tracker)
        rasa = as_rasa(agent, tracker, monkeypatch)
        for name in POLICIES:
            assert answer(fast[name]) == answer(rasa[name]), (name, len(tracker.events))
        found = rule_found(agent, tracker)
        with monkeypatch.context() as patch:
            patch.setattr(Policy, "_prediction_states", fast_paths.prediction_states.rasa_original)
            rasa_found = rule_found(agent, tracker)
        if found[0] is not None or rasa_found[0] is not None:
            assert found == rasa_found
            longest_rules_applied += len(json.loads(found[1])) == longest
        else:  # no rule applies: the states' JSON names none of the rules either way
            assert found[1] not in not_in_stories and rasa_found[1] not in not_in_stories
        compared += 1
    assert compared > 250
    # The conversations reach the rules that read the most states: those would go wrong first
    # with too few states.
    assert longest_rules_applied > 0


def test_the_policies_are_given_only_the_states_they_read(agent, monkeypatch):
    seen: dict[str, int] = {}
    original = fast_paths._original_prediction_states

    def counting(self, tracker, *args, **kwargs):
        states = original(self, tracker, *args, **kwargs)
        seen[type(self).__name__] = max(seen.get(type(self).__name__, 0), len(states))
        return states

    monkeypatch.setattr(fast_paths, "_original_prediction_states", counting)
    *_, tracker = conversation(agent, 4, turns=30)
    assert len(tracker.past_states(agent.domain)) > 60
    predictions(agent, tracker)
    # This project's MemoizationPolicy remembers no story (the dialogue is rules): one state.
    assert seen["MemoizationPolicy"] == 1
    assert seen["RulePolicy"] == fast_paths.states_wanted(rule_policy(agent), tracker) < 60


def test_training_and_rule_trackers_get_every_state(agent):
    rule_tracker = DialogueStateTracker("rule", agent.domain.slots, is_rule_tracker=True)
    training_tracker = TrackerWithCachedStates("story", agent.domain.slots)
    for tracker in (rule_tracker, training_tracker):
        assert fast_paths.states_wanted(rule_policy(agent), tracker) is None
