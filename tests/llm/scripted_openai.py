"""A scripted OpenAI-compatible chat-completions server on loopback (a test double).

It speaks real HTTP (`/v1/chat/completions`, non-streaming) so the planner's real
`openai` client is exercised end to end. Each request is answered by the next turn of
a script: a turn is a function of the conversation so far (the request's `messages`)
returning an assistant message, usually tool calls. Every request is kept, so tests
can assert what the model was told (tool results, error lines).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Turn = Callable[[list[dict[str, Any]]], dict[str, Any]]


def call(name: str, args: dict[str, Any] | str) -> dict[str, Any]:
    """An assistant message with one tool call (args as a dict, or raw text to send malformed JSON)."""
    return calls((name, args))


def calls(*items: tuple[str, dict[str, Any] | str]) -> dict[str, Any]:
    return {
        "role": "assistant",
        "content": None,
        "tool_calls": [
            {
                "id": f"call_{n}",
                "type": "function",
                "function": {"name": name, "arguments": a if isinstance(a, str) else json.dumps(a)},
            }
            for n, (name, a) in enumerate(items)
        ],
    }


def say(text: str) -> dict[str, Any]:
    return {"role": "assistant", "content": text}


def incident(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The incident brief the planner put in its first user message."""
    first = next(m for m in messages if m["role"] == "user")
    return json.loads(first["content"].split("\n", 1)[1])


def last_tool(messages: list[dict[str, Any]]) -> str:
    return next(m["content"] for m in reversed(messages) if m["role"] == "tool")


class ScriptedServer:
    def __init__(self) -> None:
        self.script: list[Turn] = []
        self.requests: list[dict[str, Any]] = []
        self.repeat_last = False
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                msg = server._next(body["messages"])
                finish = "tool_calls" if msg.get("tool_calls") else "stop"
                payload = {
                    "id": f"chatcmpl-{len(server.requests)}",
                    "object": "chat.completion",
                    "created": 0,
                    "model": body.get("model", "scripted"),
                    "choices": [{"index": 0, "message": msg, "finish_reason": finish}],
                    "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                }
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def play(self, *turns: Turn | dict[str, Any], repeat_last: bool = False) -> ScriptedServer:
        self.script = [t if callable(t) else (lambda m, t=t: t) for t in turns]
        self.requests = []
        self.repeat_last = repeat_last
        return self

    def _next(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        n = len(self.requests) - 1
        if n >= len(self.script):
            if not self.repeat_last:
                return say("(script exhausted)")
            n = len(self.script) - 1
        return self.script[n](messages)

    def tool_messages(self) -> list[str]:
        """Tool results the model was sent, in order (from the last request)."""
        return [m["content"] for m in self.requests[-1]["messages"] if m["role"] == "tool"]

    def __enter__(self) -> ScriptedServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
