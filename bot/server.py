"""``python -m bot.server run …``: Rasa's own command line, with govbot's fixes installed.

Takes exactly the arguments of ``rasa`` (``run``, ``shell`` …); see bot/rasa_compat.py.
"""

from __future__ import annotations


def main() -> None:
    from bot import rasa_compat

    rasa_compat.install()
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
