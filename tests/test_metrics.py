"""The Prometheus figures of ``GET /api/v1/metrics`` (bot.tickets.metrics), read back with
prometheus_client's own parser."""

from dataclasses import replace
from datetime import datetime, timezone

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import insert

from bot.db.schema import demands, turns
from bot.tickets.factory import build_backend
from bot.tickets.metrics import render, render_unavailable
from bot.tickets.model import Status


@pytest.fixture
def backend(settings, tmp_path):
    return build_backend(replace(settings, var=str(tmp_path), database_url=""))


def families(text: bytes) -> dict:
    return {f.name: f for f in text_string_to_metric_families(text.decode())}


def samples(family) -> dict:
    return {(s.name, tuple(s.labels.values())): s.value for s in family.samples}


def test_figures_with_their_types_help_and_labels(backend):
    backend.kb_log.gap("等保测评多久一次", "rest:u1", "龙游县", "data")
    backend.handoffs.open("rest:u2", "u2", "rest", "转人工")
    now = datetime.now(timezone.utc)
    with backend.engine.begin() as conn:
        for channel, confidence, latency in [("rest", 0.2, 40), ("wechat", 0.97, 3000),
                                             ("rest", None, None), ('a"b\\c', 1.0, 9000)]:
            conn.execute(insert(turns).values(at=now, channel=channel, intent="greet",
                                              confidence=confidence, latency_ms=latency))
        for domain in ("finance", "finance", "legal"):
            conn.execute(insert(demands).values(at=now, intent="report_need", domain=domain,
                                                channel="rest", text="x"))
    f = families(render(backend))
    assert samples(f["govbot_up"]) == {("govbot_up", ()): 1}
    assert f["govbot_tickets"].type == "gauge"
    assert f["govbot_tickets"].documentation == "Tickets by status."
    assert samples(f["govbot_tickets"]) == {("govbot_tickets", (s.value,)): 0 for s in Status}
    assert samples(f["govbot_handoffs_waiting"]) == {("govbot_handoffs_waiting", ()): 1}
    assert samples(f["govbot_outbox_pending"]) == {("govbot_outbox_pending", ()): 0}
    assert f["govbot_demands"].type == "counter"  # the parser drops the _total suffix
    assert samples(f["govbot_demands"]) == {("govbot_demands_total", ("finance",)): 2,
                                            ("govbot_demands_total", ("legal",)): 1}
    assert samples(f["govbot_kb_gaps"]) == {("govbot_kb_gaps_total", ()): 1}
    assert samples(f["govbot_turns"])["govbot_turns_total", ('a"b\\c',)] == 1  # escaped
    latency = samples(f["govbot_turn_latency_ms"])
    assert f["govbot_turn_latency_ms"].type == "histogram"
    assert latency["govbot_turn_latency_ms_bucket", ("50",)] == 1
    assert latency["govbot_turn_latency_ms_bucket", ("5000",)] == 2
    assert latency["govbot_turn_latency_ms_bucket", ("+Inf",)] == 3  # NULLs left out
    assert latency["govbot_turn_latency_ms_count", ()] == 3
    assert latency["govbot_turn_latency_ms_sum", ()] == 12040
    confidence = samples(f["govbot_nlu_confidence"])
    assert confidence["govbot_nlu_confidence_bucket", ("0.3",)] == 1
    assert confidence["govbot_nlu_confidence_bucket", ("1.0",)] == 3


def test_an_unavailable_database_is_govbot_up_0():
    text = render_unavailable(ConnectionError("refused")).decode()
    assert text.startswith("# database unavailable: ConnectionError\n")
    assert samples(families(text.encode())["govbot_up"]) == {("govbot_up", ()): 0}
