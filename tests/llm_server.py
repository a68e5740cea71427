"""A small OpenAI-compatible chat server on loopback for the language-model coder's tests.

It needs no model: ``answer(request) -> reply`` decides each response, where ``reply`` is a
dict (sent as a chat completion whose message content is ``json.dumps(reply["content"])``
unless it is already a string), or a :class:`Reply` for errors, delays and refusals. Every
request body is kept in ``requests`` so tests can check what was sent.
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Reply:
    content: object = None        # a dict/list (JSON-encoded) or a raw string
    status: int = 200
    delay: float = 0.0
    refusal: str | None = None
    finish_reason: str = "stop"
    raw: str | None = None        # the whole response body, as is


def turn_of(request: dict) -> str:
    """The turn the prompt asks to code (the text after 'Turn to code (speaker …):')."""
    user = request["messages"][1]["content"]
    m = re.search(r"Turn to code \(speaker [^)]*\):\n(.*?)\n\nAnswer with", user, re.S)
    return m.group(1) if m else ""


class FakeLLM:
    def __init__(self, answer, *, host: str = "127.0.0.1", digest: str = "sha256:0123abcd"):
        self.answer = answer
        self.requests: list[dict] = []
        self.digest = digest
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                if self.path == "/api/tags":
                    self._send(200, {"models": [{"name": "fake:1b", "digest": server.digest}]})
                else:
                    self._send(404, {"error": "not found"})

            def do_POST(self):
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length).decode("utf-8"))
                if self.path != "/v1/chat/completions":
                    return self._send(404, {"error": "not found"})
                with server._lock:
                    server.requests.append(body)
                    index = len(server.requests)
                reply = server.answer(body, index)
                if not isinstance(reply, Reply):
                    reply = Reply(content=reply)
                if reply.delay:
                    time.sleep(reply.delay)
                if reply.raw is not None:
                    return self._send(reply.status, reply.raw)
                if reply.status != 200:
                    return self._send(reply.status, {"error": {"message": "scripted error"}})
                content = reply.content if isinstance(reply.content, str) or \
                    reply.content is None else json.dumps(reply.content)
                message = {"role": "assistant", "content": None if reply.refusal else content}
                if reply.refusal:
                    message["refusal"] = reply.refusal
                self._send(200, {
                    "id": f"chatcmpl-{index}", "object": "chat.completion",
                    "model": body["model"], "system_fingerprint": "fp_fake",
                    "choices": [{"index": 0, "message": message,
                                 "finish_reason": reply.finish_reason}],
                    "usage": {"prompt_tokens": len(json.dumps(body)) // 4,
                              "completion_tokens": 12, "total_tokens": 0}})

            def _send(self, status, payload):
                data = payload.encode() if isinstance(payload, str) else \
                    json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.httpd = ThreadingHTTPServer((host, 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()
        return False
