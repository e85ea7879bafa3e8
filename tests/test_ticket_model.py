from datetime import datetime, timezone

import pytest

from bot.tickets.model import (
    TRANSITIONS,
    Enterprise,
    Event,
    IllegalTransition,
    Status,
    TicketError,
    check_transition,
    replay,
)

S = Status


def test_every_status_has_a_rule_and_closed_is_final():
    assert set(TRANSITIONS) == set(Status)
    assert TRANSITIONS[S.CLOSED] == frozenset()


@pytest.mark.parametrize("path", [
    [S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.RATED, S.CLOSED],
    [S.ASSIGNED, S.RETURNED, S.ASSIGNED, S.IN_PROGRESS, S.ESCALATED, S.ASSIGNED],
    [S.ASSIGNED, S.IN_PROGRESS, S.RESOLVED, S.REOPENED, S.IN_PROGRESS, S.RESOLVED],
])
def test_closed_loop_paths_are_allowed(path):
    current = S.SUBMITTED
    for nxt in path:
        check_transition("T", current, nxt)
        current = nxt


@pytest.mark.parametrize("current,wanted", [
    (S.SUBMITTED, S.RESOLVED), (S.CLOSED, S.REOPENED), (S.RESOLVED, S.IN_PROGRESS),
    (S.ASSIGNED, S.RATED)])
def test_illegal_transitions_say_what_is_allowed(current, wanted):
    with pytest.raises(IllegalTransition) as err:
        check_transition("QZ-20261126-0001", current, wanted)
    assert "QZ-20261126-0001" in str(err.value) and current.value in str(err.value)


def _created(number="QZ-20261126-0001"):
    at = datetime(2026, 11, 26, tzinfo=timezone.utc)
    data = {"enterprise": {"name": "宏达门业", "credit_code": None, "contact": None,
                           "mobile": None},
            "region": "江山市", "domain": "finance", "subtopic": "bridge_loan", "text": "x",
            "channel": "rest", "sender_id": "u1", "department": None, "level": "county"}
    return Event(number, 1, at, "u1", "created", None, S.SUBMITTED, data)


def test_replay_rebuilds_state_from_events():
    at = datetime(2026, 11, 27, tzinfo=timezone.utc)
    events = [_created(),
              Event("QZ-20261126-0001", 2, at, "dispatcher", "transition", S.SUBMITTED,
                    S.ASSIGNED, {"department": "县金融办", "level": "county"}),
              Event("QZ-20261126-0001", 3, at, "handler", "note", None, None, {"text": "n"})]
    ticket = replay(events)
    assert (ticket.status, ticket.version, ticket.department) == (S.ASSIGNED, 2, "县金融办")
    assert ticket.enterprise == Enterprise("宏达门业")


def test_replay_refuses_an_impossible_log():
    with pytest.raises(TicketError):
        replay([])
    at = datetime(2026, 11, 27, tzinfo=timezone.utc)
    with pytest.raises(IllegalTransition):
        replay([_created(), Event("QZ-20261126-0001", 2, at, "x", "transition",
                                  S.SUBMITTED, S.RATED, {})])
