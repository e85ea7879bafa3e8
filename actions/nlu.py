"""Parsing parts of a message with the running Rasa server's NLU (``POST /model/parse``).

The dialogue sometimes needs the NLU's reading of a *part* of what the user wrote:
each demand of a message that lists several, or the request sentences of a long
letter. The Rasa server that called the action serves its own model over HTTP; when
it cannot be reached the caller keeps the reading of the whole message.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp

from actions.services import services

logger = logging.getLogger(__name__)

TIMEOUT = aiohttp.ClientTimeout(total=10)


async def parse_parts(parts: list[str]) -> list[dict[str, Any]] | None:
    """The parse result of every part, in order; None when the NLU is unreachable."""
    url = services().settings.rasa_api("/model/parse")
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as session:
            async def one(text: str) -> dict[str, Any]:
                async with session.post(url, json={"text": text}) as resp:
                    resp.raise_for_status()
                    return await resp.json()

            return list(await asyncio.gather(*(one(p) for p in parts)))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as err:
        logger.warning("Parts of a message not parsed (%s); the whole message is used",
                       type(err).__name__)
        return None
