"""The thin client's pure parts: the hello it sends and the socket path it derives."""

from __future__ import annotations

import json
import os

from proctor.gateway.thin import default_socket, hello


def test_hello_sends_one_credential_and_the_task_token() -> None:
    """An SVID wins over a join token (the join token is not spent); nothing unset is sent."""
    both = json.loads(hello({"PROCTOR_SVID": "s", "PROCTOR_JOIN_TOKEN": "j", "PROCTOR_TASK_TOKEN": "t"}))
    assert both == {"proctor": "gateway/1", "svid": "s", "task_token": "t"}
    assert json.loads(hello({"PROCTOR_JOIN_TOKEN": "j"})) == {"proctor": "gateway/1", "join_token": "j"}
    assert json.loads(hello({"PROCTOR_SVID": "", "OTHER": "x"})) == {"proctor": "gateway/1"}


def test_hello_names_the_template_from_the_option_or_the_environment() -> None:
    """--template wins over PROCTOR_TEMPLATE; a task token set as well is sent too (the daemon
    refuses that hello, so the mistake is loud)."""
    assert json.loads(hello({"PROCTOR_TEMPLATE": "env"})) == {"proctor": "gateway/1", "template": "env"}
    assert json.loads(hello({"PROCTOR_TEMPLATE": "env"}, "opt"))["template"] == "opt"
    both = json.loads(hello({"PROCTOR_TASK_TOKEN": "t"}, "opt"))
    assert both == {"proctor": "gateway/1", "task_token": "t", "template": "opt"}


def test_default_socket_is_made_from_the_path_alone(tmp_path: object) -> None:
    """`<workspace>/run/gateway.sock`, absolute, for a workspace that does not even exist."""
    assert default_socket("/nowhere/ws") == "/nowhere/ws/run/gateway.sock"
    assert default_socket("rel") == os.path.join(os.getcwd(), "rel", "run", "gateway.sock")
