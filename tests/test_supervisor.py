"""The supervisor of govbot run / cluster with real child processes: a member that dies is
started again while the others keep running, with back-off; one that keeps dying is
reported as in a crash loop (log, state file) and still tried."""

import json
import logging
import subprocess
import sys
from itertools import pairwise

from bot.supervisor import CRASH_LOOP, MAX_DELAY, RUNNING, Member, Supervisor, read_state

SLEEPER = [sys.executable, "-c", "import time; time.sleep(120)"]
CRASHER = [sys.executable, "-c", "raise SystemExit(3)"]


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def member(name, args, health=None):
    def spawn():
        return subprocess.Popen(args)
    return Member(name, spawn, spawn(), health)


def stop(*members):
    for m in members:
        m.process.kill()
        m.process.wait()


def test_a_dead_member_is_restarted_and_the_others_keep_running(tmp_path, caplog):
    clock = Clock()
    web, rasa = member("web", SLEEPER), member("replica 0 rasa-server", SLEEPER)
    supervisor = Supervisor([web, rasa], tmp_path / "members.json", clock)
    first = rasa.process
    try:
        first.kill()
        first.wait()
        with caplog.at_level(logging.INFO):
            supervisor.step()  # noticed and started again at once (its first restart)
            assert read_state(tmp_path / "members.json")["replica 0 rasa-server"][
                "state"] == "starting"
            clock.now += RUNNING  # without a health URL: serving once it has run a while
            supervisor.step()
        assert rasa.process is not first and rasa.process.poll() is None
        assert web.process.poll() is None  # untouched
        state = read_state(tmp_path / "members.json")
        assert state["replica 0 rasa-server"]["state"] == "up"
        assert state["replica 0 rasa-server"]["restarts"] == 1
        assert state["replica 0 rasa-server"]["pid"] == rasa.process.pid
        assert state["web"] == {"state": "up", "restarts": 0, "exit_code": None,
                                "pid": web.process.pid}
        assert "replica 0 rasa-server exited with code -9; restarting it in 0 s" in caplog.text
        assert "replica 0 rasa-server serves again" in caplog.text
    finally:
        stop(web, rasa)


def test_a_member_that_keeps_dying_backs_off_and_is_reported(tmp_path, caplog):
    clock = Clock()
    bad = member("replica 1 action-server", CRASHER)
    supervisor = Supervisor([bad], tmp_path / "members.json", clock)
    with caplog.at_level(logging.INFO):
        for _ in range(CRASH_LOOP + 2):
            bad.process.wait()
            supervisor.step()  # noticed: started again, or planned after a delay
            if bad.next_start is not None:
                clock.now = bad.next_start
                supervisor.step()
    started = [1000.0, *bad.restarts]
    delays = [b - a for a, b in pairwise(started)]
    assert delays[:5] == [0.0, 1.0, 2.0, 4.0, 8.0] and max(delays) <= MAX_DELAY
    state = json.loads((tmp_path / "members.json").read_text())
    assert state["replica 1 action-server"]["state"] == "crash_loop"
    assert state["replica 1 action-server"]["exit_code"] == 3
    assert "replica 1 action-server is in a crash loop" in caplog.text
    bad.process.wait()


def test_a_member_that_cannot_be_started_is_tried_again_later(tmp_path):
    clock = Clock()

    def spawn():
        raise FileNotFoundError("no such executable")
    gone = Member("event-consumer", spawn, subprocess.Popen(CRASHER))
    gone.process.wait()
    supervisor = Supervisor([gone], tmp_path / "members.json", clock)
    supervisor.step()
    assert gone.state == "down" and gone.next_start == clock.now + MAX_DELAY
    assert read_state(tmp_path / "members.json")["event-consumer"]["state"] == "down"


def test_a_member_that_served_long_and_then_fails_to_start_still_backs_off(tmp_path):
    clock = Clock()
    m = member("web", SLEEPER)
    supervisor = Supervisor([m], tmp_path / "members.json", clock)
    m.up_since = clock.now
    clock.now += 600  # it served for ten minutes, then dies ...
    m.process.kill()
    m.process.wait()
    m.spawn = lambda: subprocess.Popen(CRASHER)  # ... and cannot start any more
    supervisor.step()  # the first restart is at once
    delays = []
    for _ in range(CRASH_LOOP + 1):
        m.process.wait()
        supervisor.step()
        delays.append(m.next_start - clock.now if m.next_start else 0.0)
        clock.now = m.next_start or clock.now
        supervisor.step()
    assert delays[:4] == [1.0, 2.0, 4.0, 8.0]
    assert m.view()["state"] == "crash_loop"
    m.process.wait()
