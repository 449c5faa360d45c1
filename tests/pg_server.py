"""Start a throw-away PostgreSQL server on loopback for the test session."""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def _bin_dir() -> Path:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    raise PostgresUnavailable("initdb not found: install the Debian package 'postgresql'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """A PostgreSQL cluster in a temporary folder, run as an unprivileged user when root."""

    def __init__(self) -> None:
        self.bin = _bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="asb-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self.user = "asb"
        self._as_user: list[str] = []
        if os.geteuid() == 0:
            # initdb refuses to run as root; the Debian package creates the postgres user.
            self._as_user = ["runuser", "-u", "postgres", "--"]
            shutil.chown(self.root, "postgres")
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/asb_test"

    def _run(self, *args: str) -> None:
        subprocess.run([*self._as_user, *args], check=True, capture_output=True, cwd=self.root)

    def start(self) -> PostgresServer:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", self.user,
                  "--auth=trust", "-E", "UTF8", "--locale=C")
        self.resume()
        deadline = time.monotonic() + 30
        while True:
            try:
                self._run(str(self.bin / "createdb"), "-h", "127.0.0.1", "-p", str(self.port),
                          "-U", self.user, "asb_test")
                break
            except subprocess.CalledProcessError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        return self

    def resume(self) -> None:
        """Start the server on its data folder (again, after ``halt``), waiting until it runs."""
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -k {self.root} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off "
                "-c max_connections=200")
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-o", opts,
                  "-l", str(self.root / "log"), "-w", "start")

    def halt(self) -> None:
        """Shut the server down as an operator's restart would (fast: sessions are ended)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")

    def stop(self) -> None:
        subprocess.run([*self._as_user, str(self.bin / "pg_ctl"), "-D", str(self.data),
                        "-m", "immediate", "stop"], capture_output=True, cwd=self.root)
        shutil.rmtree(self.root, ignore_errors=True)
