"""Faults under the scale profile: nothing a customer saw confirmed is ever lost.

Every drill runs real customers (Rasa's REST channel, through HAProxy) against two Rasa
replicas and two action servers on PostgreSQL and Redis, breaks something for real (SIGKILL,
a PostgreSQL restart, the webhook endpoint gone), and ends by comparing the reference numbers
the customers were shown with the tickets in the database.
"""

from __future__ import annotations

import json
import subprocess

import pytest
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from madoguchi.infra.webhook import DELIVERY_HEADER, SIGNATURE_HEADER, OutboxMessage, verify
from madoguchi.rasa_adapters.resilience import retry_text
from madoguchi.runtime.drills import (
    ANSWERS,
    Customer,
    confirmed_lost,
    restart_postgresql,
    wait_until,
)
from madoguchi.runtime.scale import Cluster
from tests.scale.conftest import WEBHOOK_SECRET, WebhookEndpoint

pytestmark = pytest.mark.scale


def test_a_killed_action_server_goes_unnoticed_and_none_at_all_asks_the_customer_to_resend(
        scale: Cluster) -> None:
    customer = Customer(scale.rasa_url)
    customer.start_request()
    assert customer.asked() == "customer_name"

    scale.launcher.kill(scale.actions[0])
    # The other action server takes the turn (a refused connection is redispatched).
    customer.say_until_answered(ANSWERS["customer_name"], attempts=1)
    assert customer.asked() == "phone"
    assert customer.retry_messages == 0

    scale.launcher.kill(scale.actions[1])
    replies = customer.say(ANSWERS["phone"])
    assert [m.get("text") for m in replies or []] == [retry_text()]
    # The failed turn is undone: the form still waits for the phone number.
    assert customer.asked() == "phone"

    for service in list(scale.actions):
        scale.restart(service)
    scale.launcher.wait_ready(scale.actions)
    scale.wait_balanced()
    customer.say_until_answered(ANSWERS["phone"])  # the same words, sent again
    assert customer.asked() != "phone"
    customer.answer_form()
    reference = customer.confirm()

    assert reference is not None
    assert confirmed_lost(scale.database_url, [customer]) == (1, 0)


def test_a_database_restart_mid_conversation_loses_no_confirmed_request(
        scale: Cluster) -> None:
    if subprocess.run(["which", "pg_ctlcluster"], capture_output=True).returncode != 0:
        pytest.skip("pg_ctlcluster is not available to restart PostgreSQL")
    done = Customer(scale.rasa_url)
    assert done.request_to_ticket() is not None  # confirmed before the restart
    midway = Customer(scale.rasa_url)
    midway.start_request()
    midway.say_until_answered(ANSWERS["customer_name"])

    restart_postgresql(scale.database_url)

    # The first turns after the restart may meet dead pooled connections: the customer is
    # asked to resend, and does.
    midway.answer_form()
    assert midway.confirm() is not None
    assert confirmed_lost(scale.database_url, [done, midway]) == (2, 0)


def test_a_handoff_reaches_a_webhook_that_was_down_even_across_a_restart(
        scale: Cluster, webhook_endpoint: WebhookEndpoint) -> None:
    webhook_endpoint.down()
    customer = Customer(scale.rasa_url)
    reference = customer.handoff()
    assert reference is not None

    engine = create_engine(scale.database_url, future=True)
    try:
        def row() -> OutboxMessage | None:
            with Session(engine, future=True) as session:
                return session.execute(select(OutboxMessage).where(
                    OutboxMessage.reference == reference)).scalar_one_or_none()

        wait_until(lambda: (row() is not None and row().attempts >= 1), 60,
                   "a first, failed delivery attempt")
        assert row().delivered_at is None

        # Both action servers restart while the endpoint is still down.
        for service in list(scale.actions):
            scale.restart(service)
        scale.launcher.wait_ready(scale.actions)
        webhook_endpoint.up()
        wait_until(lambda: row().delivered_at is not None, 120,
                   "delivery once the endpoint is back")
    finally:
        engine.dispose()

    bodies = [(h, b) for h, b in webhook_endpoint.received if reference.encode() in b]
    assert bodies, "the handoff was never posted"
    headers, body = bodies[0]
    assert verify(WEBHOOK_SECRET, body, headers[SIGNATURE_HEADER])
    assert headers[DELIVERY_HEADER]
    assert json.loads(body)["reference"] == reference
    assert confirmed_lost(scale.database_url, [customer]) == (1, 0)


# Last: the killed replica is not started again (loading the model takes a minute).
def test_a_killed_rasa_replica_leaves_its_conversations_to_the_other(scale: Cluster) -> None:
    customers = [Customer(scale.rasa_url) for _ in range(4)]
    for customer in customers:
        customer.start_request()
        customer.say_until_answered(ANSWERS["customer_name"])
    # Round robin has already sent every conversation's turns to both replicas.
    scale.launcher.kill(scale.rasa[0])
    scale.wait_down(scale.rasa[0])
    for customer in customers:
        customer.answer_form()
        assert customer.confirm() is not None
    assert all(c.http_errors == 0 and c.retry_messages == 0 for c in customers)
    assert confirmed_lost(scale.database_url, customers) == (4, 0)
