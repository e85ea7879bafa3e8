"""The scripted conversations of tests/conversations/ (written from the README and docs
only, in real users' registers), played through the REST channel against the real
servers; the tickets they leave are checked in the database. `govbot conversations`
plays the same scripts and writes reports/conversations.md."""

from pathlib import Path

import pytest

from bot.playback import Player, Target, load_scripts

SCRIPTS = load_scripts(Path(__file__).parent / "conversations")


def test_there_are_enough_conversations_in_every_category():
    categories = {s.category for s in SCRIPTS}
    assert len(SCRIPTS) >= 150
    assert {"confirmation", "editing", "cancel", "digressions", "enterprise", "region",
            "multi", "letters", "vague", "handoff", "buttons", "context"} <= categories


@pytest.fixture(scope="module")
def player(services):
    return Player(Target(services.rasa_url, services.api_url, services.tokens["admin"],
                         services.database_url, services.settings.rasa_token))


@pytest.mark.parametrize("script", [
    pytest.param(s, marks=pytest.mark.xfail(strict=True, reason=s.known_gap)) if s.known_gap
    else s for s in SCRIPTS], ids=[s.id for s in SCRIPTS])
def test_conversation(player, script):
    """A script marked ``known_gap`` is an open defect: it must fail (strict), so that when
    a change fixes it the mark is removed."""
    outcome = player.play(script)
    assert outcome.passed, "\n".join([*outcome.failures, "", *outcome.transcript])
