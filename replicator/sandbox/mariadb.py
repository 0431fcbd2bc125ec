"""A throwaway MariaDB server in a folder: for tests and for `replicator demo` when no MySQL is configured.

It is started with ROW binlog, full row images and full row metadata, exactly what the binlog watcher needs,
listens on 127.0.0.1 on a free port, and is stopped (and its folder removed) by `stop()`.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

SERVER_BINARIES = ("mariadbd", "mysqld")
INSTALL_BINARIES = ("mariadb-install-db", "mysql_install_db")
# Debian puts mariadbd in sbin, outside a user's PATH; elsewhere (Windows: mariadbd.exe) PATH is enough.
_SBIN = "" if sys.platform == "win32" else os.pathsep + "/usr/sbin" + os.pathsep + "/usr/local/sbin"
SEARCH_PATH = os.environ.get("PATH", "") + _SBIN


class LocalServerError(RuntimeError):
    """The local MariaDB could not be started; the message says what is missing."""


def _which(names: tuple[str, ...]) -> str | None:
    for name in names:
        path = shutil.which(name, path=SEARCH_PATH)
        if path:
            return path
    return None


START_TRIES = 3


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def available() -> bool:
    return _which(SERVER_BINARIES) is not None and _which(INSTALL_BINARIES) is not None


@dataclass
class LocalMariaDB:
    """One mariadbd process owning a private data directory."""

    base_dir: Path | None = None
    port: int = 0
    keep_dir: bool = False
    fixed_port: bool = field(default=False, repr=False)
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"mysql://root@127.0.0.1:{self.port}/"

    def start(self, timeout: float = 60.0) -> "LocalMariaDB":
        server, installer = _which(SERVER_BINARIES), _which(INSTALL_BINARIES)
        if not server or not installer:
            raise LocalServerError(
                "no MariaDB server binary found (mariadbd + mariadb-install-db); "
                "install it with: apt-get install -y mariadb-server"
            )
        if self.base_dir is None:
            self.base_dir = Path(tempfile.mkdtemp(prefix="replicator-mariadb-"))
        self.base_dir.mkdir(parents=True, exist_ok=True)
        datadir = self.base_dir / "data"
        tmpdir = self.base_dir / "tmp"  # its own temp folder: nothing else cleaning /tmp can pull files away
        tmpdir.mkdir(exist_ok=True)
        self.fixed_port = bool(self.port)  # a port asked for is kept (a restart keeps its port)
        self.port = self.port or free_port()
        as_root = hasattr(os, "geteuid") and os.geteuid() == 0  # no such thing as root on Windows
        user_args = ["--user=root"] if as_root else []
        if not (datadir / "mysql").exists():
            result = subprocess.run(
                # --no-defaults must come first: a system my.cnf (user=mysql, log-error=/var/log/...) breaks it
                [
                    installer,
                    "--no-defaults",
                    f"--datadir={datadir}",
                    "--auth-root-authentication-method=normal",
                    "--skip-test-db",
                    *user_args,
                ],
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise LocalServerError(f"mariadb-install-db failed: {result.stderr.strip()[-500:]}")
        for attempt in range(START_TRIES):
            try:
                return self._launch(server, datadir, tmpdir, user_args, timeout)
            except LocalServerError:
                # a port another process took between our choice and the server's bind (tests start one server per
                # worker at once), or a start cut short: try again on a new port
                if attempt == START_TRIES - 1 or self.fixed_port:
                    raise
                self.port = free_port()
        raise AssertionError("unreachable")

    def _launch(self, server: str, datadir: Path, tmpdir: Path, user_args: list[str], timeout: float) -> "LocalMariaDB":
        log = open(self.base_dir / "server.log", "ab")
        self.process = subprocess.Popen(
            [
                server,
                "--no-defaults",
                f"--datadir={datadir}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.base_dir / 'mysql.sock'}",
                f"--tmpdir={tmpdir}",
                f"--pid-file={self.base_dir / 'mysql.pid'}",
                "--server-id=1",
                f"--log-bin={datadir / 'binlog'}",
                "--binlog-format=ROW",
                "--binlog-row-image=FULL",
                "--binlog-row-metadata=FULL",
                "--skip-name-resolve",
                "--innodb-buffer-pool-size=1G",
                "--innodb-log-file-size=256M",
                "--innodb-flush-log-at-trx-commit=2",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_general_ci",
                *user_args,
            ],
            stdout=log,
            stderr=log,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = (self.base_dir / "server.log").read_text(errors="replace")[-800:]
                self.process = None
                raise LocalServerError(f"mariadbd exited at start: {tail}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.2)
        self.stop()
        raise LocalServerError(f"mariadbd did not answer on port {self.port} within {timeout:.0f}s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self.base_dir and not self.keep_dir:
            shutil.rmtree(self.base_dir, ignore_errors=True)

    def restart(self) -> None:
        """Stop and start again on the same port and data (used by the server-restart tests)."""
        keep = self.keep_dir
        self.keep_dir = True
        self.stop()
        self.keep_dir = keep
        self.start()
