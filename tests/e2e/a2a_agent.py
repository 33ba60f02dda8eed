"""A real A2A agent for the tests, built on the A2A project's own SDK (``a2a-sdk``, a dev dependency).

``python a2a_agent.py PORT KEY_PEM MODE [SKILLS_JSON]`` serves, on 127.0.0.1:PORT, the Agent Card at
``/.well-known/agent-card.json`` and JSON-RPC ``SendMessage`` at ``/``. Its skill ``echo`` answers
``echo: <text>``. The card is signed with the SDK's own signer (ES256 over the RFC 8785 canonical
card) using the P-256 key in KEY_PEM, then, by MODE:

- ``signed``: served as signed;
- ``tampered``: one field (the description) changed after signing;
- ``unsigned``: served without ``signatures``.

SKILLS_JSON (optional) is a list of ``{"id", "name", "description", "tags"}`` replacing the default
skills, so a test can serve a card whose skills declare other effects.
"""

from __future__ import annotations

import json
import sys

import uvicorn
from a2a.helpers.proto_helpers import get_message_text, new_text_message
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore
from a2a.types import AgentCapabilities, AgentCard, AgentInterface, AgentSkill
from a2a.utils.signing import create_agent_card_signer
from starlette.applications import Starlette

DEFAULT_SKILLS = [
    {
        "id": "echo",
        "name": "Echo",
        "description": "Says back what it is told",
        "tags": ["proctor:effect=read"],
    },
    {"id": "shout", "name": "Shout", "description": "No effect declared", "tags": ["text"]},
]


class Echo(AgentExecutor):
    async def execute(self, context: RequestContext, event_queue: object) -> None:
        text = get_message_text(context.message) if context.message else ""
        await event_queue.enqueue_event(new_text_message(f"echo: {text}"))  # type: ignore[attr-defined]

    async def cancel(self, context: RequestContext, event_queue: object) -> None:
        raise NotImplementedError


def main() -> None:
    port, key_path, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    skills = json.loads(sys.argv[4]) if len(sys.argv) > 4 else DEFAULT_SKILLS
    url = f"http://127.0.0.1:{port}/"
    card = AgentCard(
        name="echo-agent",
        description="An agent that echoes",
        version="1.0.0",
        supported_interfaces=[AgentInterface(url=url, protocol_binding="JSONRPC", protocol_version="1.0")],
        capabilities=AgentCapabilities(streaming=False),
        default_input_modes=["text/plain"],
        default_output_modes=["text/plain"],
        skills=[AgentSkill(**s) for s in skills],
    )
    if mode != "unsigned":
        with open(key_path, encoding="ascii") as f:
            pem = f.read()
        signer = create_agent_card_signer(
            pem, {"alg": "ES256", "kid": "agent-key-1", "jku": None, "typ": "JOSE"}
        )
        card = signer(card)
    if mode == "tampered":
        card.description = "An agent that echoes (changed after signing)"
    handler = DefaultRequestHandler(agent_executor=Echo(), task_store=InMemoryTaskStore(), agent_card=card)
    app = Starlette(routes=[*create_agent_card_routes(card), *create_jsonrpc_routes(handler, "/")])
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


if __name__ == "__main__":
    main()
