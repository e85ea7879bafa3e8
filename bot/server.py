"""``python -m bot.server run …``: Rasa's own command line, with govbot's fixes installed.

Takes exactly the arguments of ``rasa`` (``run``, ``shell`` …); see bot/rasa_compat.py.
``rasa run`` gets ``--auth-token`` from ``GOVBOT_RASA_TOKEN`` (set by ``govbot run``), so
the token never appears on a command line that other users of the machine can read.
"""

from __future__ import annotations

import os
import sys


def main() -> None:
    from bot import rasa_compat

    token = os.environ.get("GOVBOT_RASA_TOKEN")
    if token and sys.argv[1:2] == ["run"] and not any(
            a.startswith("--auth-token") for a in sys.argv):
        sys.argv.append(f"--auth-token={token}")  # one argument: a token may start with "-"
    rasa_compat.install()
    from bot.masking import install_log_masking

    install_log_masking()  # Rasa's own logs: no mobiles, ID numbers or credit codes
    if os.environ.get("GOVBOT_ACTIONS") == "inprocess" and sys.argv[1:2] == ["run"]:
        from bot import action_executor

        action_executor.executor()  # the knowledge base loaded before the server is ready
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
