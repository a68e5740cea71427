"""Talking to an OpenAI-compatible chat server (Ollama, llama.cpp server, vLLM, LM Studio…).

Only ``POST {endpoint}/chat/completions`` is needed, with ``response_format`` set to a JSON
schema (structured outputs, which all four local servers accept). Transcripts are sensitive:
:func:`check_endpoint` refuses any endpoint that is not on this machine unless the user said
``--allow-remote``, *before* a connection is made.

Retries: a timeout, a dropped connection, HTTP 429 and 5xx are retried with exponential back-off
(``backoff * 2**attempt`` seconds, capped at 30 s, honouring ``Retry-After``); other HTTP errors
are final. Every attempt is returned to the caller, who records it.
"""

from __future__ import annotations

import ipaddress
import json
import socket
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from coder.errors import CoderError

DEFAULT_ENDPOINT = "http://127.0.0.1:11434/v1"  # Ollama's OpenAI-compatible API


class RemoteEndpoint(CoderError):
    """The endpoint is not on this machine and --allow-remote was not given."""


def check_endpoint(endpoint: str, *, allow_remote: bool) -> str:
    """The endpoint, normalized (no trailing slash); refuses a bad URL, and a remote one
    unless ``allow_remote``. Local means every address the host name resolves to is a loopback
    address (127.0.0.0/8, ::1); nothing is sent to the endpoint to find out."""
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CoderError(f"--endpoint {endpoint!r} is not an http(s) URL — give the server's "
                         f"API address, e.g. {DEFAULT_ENDPOINT}")
    if not allow_remote and not is_local_host(parts.hostname):
        raise RemoteEndpoint(
            f"--endpoint {endpoint}: {parts.hostname} is not this machine, so the transcripts "
            "would leave it — run the model locally (e.g. Ollama at "
            f"{DEFAULT_ENDPOINT}), or pass --allow-remote if your ethics approval and data "
            "agreement allow sending interview text to that server")
    return endpoint.rstrip("/")


def is_local_host(host: str) -> bool:
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        pass
    if host.lower() == "localhost":
        return True
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    addresses = {info[4][0] for info in infos}
    return bool(addresses) and all(ipaddress.ip_address(a.split("%")[0]).is_loopback
                                   for a in addresses)


@dataclass
class Attempt:
    """One HTTP exchange: the raw response body (when one came) and what it was."""

    status: str            # "answer" (a 200 with a body) | "error"
    response: str | None   # the raw body, as received
    error: str | None
    seconds: float
    http_status: int | None = None


class ChatClient:
    """A small synchronous client; one instance is shared by the worker threads (httpx's
    ``Client`` is thread-safe)."""

    def __init__(self, endpoint: str, *, timeout: float = 120.0, api_key: str | None = None):
        import httpx

        headers = {"Content-Type": "application/json"}
        if api_key:
            headers["Authorization"] = f"Bearer {api_key}"
        self.endpoint = endpoint
        self._httpx = httpx
        self._client = httpx.Client(timeout=httpx.Timeout(timeout, connect=min(timeout, 10.0)),
                                    headers=headers, trust_env=False)

    def close(self) -> None:
        self._client.close()

    def chat(self, body: dict) -> Attempt:
        """POST one chat completion request; never raises for network or HTTP errors."""
        httpx = self._httpx
        started = time.perf_counter()
        try:
            r = self._client.post(f"{self.endpoint}/chat/completions",
                                  content=json.dumps(body, ensure_ascii=False).encode("utf-8"))
        except httpx.TimeoutException:
            return Attempt("error", None, "timed out", time.perf_counter() - started)
        except httpx.HTTPError as exc:
            return Attempt("error", None, f"{type(exc).__name__}: {exc}",
                           time.perf_counter() - started)
        elapsed = time.perf_counter() - started
        text = r.text
        if r.status_code != 200:
            return Attempt("error", text[:4000], f"HTTP {r.status_code}", elapsed,
                           r.status_code)
        return Attempt("answer", text, None, elapsed, 200)

    def model_digest(self, model: str) -> str | None:
        """The model's digest where the server tells it (Ollama's ``/api/tags``), else None."""
        root = self.endpoint[:-3] if self.endpoint.endswith("/v1") else self.endpoint
        try:
            r = self._client.get(f"{root}/api/tags", timeout=5.0)
            if r.status_code == 200:
                for entry in r.json().get("models", []):
                    if model in (entry.get("name"), entry.get("model")):
                        return entry.get("digest")
        except (self._httpx.HTTPError, ValueError, AttributeError):
            return None
        return None


def retryable(attempt: Attempt) -> bool:
    return attempt.status == "error" and (attempt.http_status is None
                                          or attempt.http_status == 429
                                          or attempt.http_status >= 500)


def backoff_delay(attempt_index: int, base: float) -> float:
    return min(30.0, base * (2 ** attempt_index))
