"""``alpr serve``: the review page in a process group of its own, stopped whole by SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ALPR = [sys.executable, "-c", "from cli.main import main; main()"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_serve_runs_in_its_own_group_and_sigterm_stops_it(alpr_env: dict[str, str]) -> None:
    port = _free_port()
    env = {**os.environ, **alpr_env}
    parent = subprocess.Popen(
        [*ALPR, "serve", "--port", str(port)], env=env, cwd=ROOT, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            assert parent.poll() is None, parent.stderr.read().decode()  # type: ignore[union-attr]
            try:
                if httpx.get(f"http://127.0.0.1:{port}/login").status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "alpr serve did not answer"
            time.sleep(0.2)
        (server,) = _children(parent.pid)
        assert os.getpgid(server) == server != os.getpgid(parent.pid)  # a group of its own
        parent.send_signal(signal.SIGTERM)
        assert parent.wait(timeout=30) == 0
        assert not _alive(server)
        with pytest.raises(httpx.TransportError):
            httpx.get(f"http://127.0.0.1:{port}/login")
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def test_serve_refuses_a_non_loopback_address(alpr_env: dict[str, str]) -> None:
    done = subprocess.run(
        [*ALPR, "serve", "--host", "0.0.0.0"],
        env={**os.environ, **alpr_env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert (
        "error: web.host='0.0.0.0'; valid values: ['127.0.0.1', '::1', 'localhost']" in done.stderr
    )
