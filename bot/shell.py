"""``govbot shell``: chat with the assistant in a terminal.

Runs the model in this process and the action server as a child process, so it
works beside a running ``govbot run`` without fighting over its ports.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import uuid
from dataclasses import replace
from pathlib import Path

from bot.runner import Services, action_url
from bot.settings import Settings


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def consecutive_ports(n: int, host: str = "127.0.0.1") -> int:
    """The first of n consecutive free ports (e.g. replica i on base + i)."""
    while True:
        base, socks = free_port(host), []
        try:
            for p in range(base, base + n):
                socks.append(socket.socket())
                socks[-1].bind((host, p))
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()


async def _chat(model: Path, url: str, debug: bool) -> None:
    from rasa.core.agent import Agent
    from rasa.utils.endpoints import EndpointConfig

    from bot import rasa_compat

    rasa_compat.install()
    agent = Agent.load(str(model), action_endpoint=EndpointConfig(url))
    sender = f"shell-{uuid.uuid4().hex[:8]}"
    print("企业服务助手（输入 /stop 或按 Ctrl+D 退出）", flush=True)
    while True:
        try:
            text = await asyncio.to_thread(input, "您：")
        except EOFError:
            break
        if text.strip() == "/stop":
            break
        if debug:
            parse = await agent.parse_message(text)
            print(f"  [intent={parse['intent'].get('name')} "
                  f"domain={(parse.get('domain') or {}).get('name')} "
                  f"subtopic={(parse.get('subtopic') or {}).get('name')} "
                  f"entities={[(e['entity'], e['value']) for e in parse.get('entities', [])]}]")
        for reply in await agent.handle_text(text, sender_id=sender) or []:
            if reply.get("text"):
                print("助手：" + reply["text"].replace("\n", "\n      "), flush=True)
            for button in reply.get("buttons") or []:
                print(f"      [{button.get('title')}] → {button.get('payload')}")


def chat(settings: Settings, model: Path, debug: bool = False) -> int:
    settings = replace(settings, action_port=free_port(settings.host))
    services = Services(settings, model, settings.root / "var" / "shell")
    print("Starting the action server …", file=sys.stderr)
    try:
        services.start_actions()
        asyncio.run(_chat(model, action_url(settings), debug))
    except KeyboardInterrupt:
        pass
    finally:
        services.stop()
    print("再见！")
    return 0
