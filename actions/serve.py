"""The action server: rasa_sdk's, started only once everything a policy answer needs is
loaded — the knowledge base, its scope, no-answer and answer-check models, the standard
questions, jieba's dictionaries, the ticket database — so the first question after start
is as fast as the next, and the server's /health (what ``govbot run`` waits for) means
ready.

    python -m actions.serve --actions actions --port 5055
"""

from __future__ import annotations

import logging
import time

logger = logging.getLogger(__name__)

def warm_up() -> float:
    """Open the knowledge base and answer one question, and open the ticket database
    (migrated on first use); the seconds it took."""
    from actions.backend import ticket_backend
    from actions.policy import knowledge_base

    started = time.perf_counter()
    knowledge_base().warm_up()
    ticket_backend()  # a database that is down is retried by the first action that needs it
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    from rasa_sdk import utils
    from rasa_sdk.__main__ import main_from_args
    from rasa_sdk.endpoint import create_argument_parser

    from bot.masking import install_log_masking

    install_log_masking()
    args = create_argument_parser().parse_args(argv)
    utils.configure_colored_logging(args.loglevel)
    try:
        logger.info("Knowledge base warmed up in %.1f s", warm_up())
    except Exception:  # noqa: BLE001 - the server still starts; answers report the problem
        logger.exception("Knowledge-base warm-up failed")
    main_from_args(args)


if __name__ == "__main__":
    main()
