"""Pytest fixtures that run wootlite as a Chatwoot stand-in.

One server (dev mode, on a free port, in a temporary data dir) serves the whole session; every
test starts from the same state through `POST /__wootlite/reset`. Point `WOOTLITE_BIN` at the
binary (default: `wootlite` on the PATH, e.g. after `cargo install --path .`).
"""

import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest


class Wootlite:
    """A running server: its URL, the administrator's token and the first account."""

    def __init__(self, url, token, account_id):
        self.url = url
        self.token = token
        self.account_id = account_id

    def call(self, method, path, body=None):
        """A request with the administrator's token; answers (status, JSON or None)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("api_access_token", self.token)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                status, raw = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, raw = error.code, error.read()
        return status, (json.loads(raw) if raw else None)

    def account(self, path):
        return f"/api/v1/accounts/{self.account_id}{path}"


@pytest.fixture(scope="session")
def wootlite_server():
    binary = os.environ.get("WOOTLITE_BIN", "wootlite")
    with tempfile.TemporaryDirectory() as work:
        ready = os.path.join(work, "ready.json")
        server = subprocess.Popen(
            [binary, "serve", "--dev", "--bind", "127.0.0.1:0",
             "--data-dir", os.path.join(work, "data"), "--ready-file", ready],
            stdout=subprocess.DEVNULL,
        )
        try:
            deadline = time.monotonic() + 30
            while not os.path.exists(ready):
                assert server.poll() is None, "wootlite exited at start"
                assert time.monotonic() < deadline, "wootlite did not start"
                time.sleep(0.05)
            with open(ready) as file:
                where = json.load(file)
            yield Wootlite(where["url"], where["token"], where["account_id"])
        finally:
            server.terminate()
            server.wait(timeout=30)


@pytest.fixture
def chatwoot(wootlite_server):
    """The server, reset to its first-start state for this test."""
    status, _ = wootlite_server.call("POST", "/__wootlite/reset", {})
    assert status == 200
    return wootlite_server
