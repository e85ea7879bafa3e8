"""Logging set-up for the command line: logs to stderr, stdout stays for results."""

from __future__ import annotations

import logging
import os
import sys


def quiet_rasa_environment() -> None:
    """Environment defaults for an offline intranet: no telemetry, no update checks."""
    os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")


def configure_logging(verbose: bool = False) -> None:
    """Send both stdlib and structlog output (Rasa uses both) to stderr."""
    import structlog

    from bot.masking import install_log_masking, mask_text

    install_log_masking()
    level = logging.INFO if verbose else logging.WARNING
    logging.basicConfig(stream=sys.stderr, level=level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", force=True)
    for noisy in ("tensorflow", "absl", "jieba", "matplotlib", "rasa", "urllib3"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    structlog.configure(
        processors=[structlog.processors.add_log_level,
                    structlog.dev.ConsoleRenderer(colors=False),
                    lambda _logger, _name, line: mask_text(line)],
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        wrapper_class=structlog.make_filtering_bound_logger(level),
        cache_logger_on_first_use=True,
    )
