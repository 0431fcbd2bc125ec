"""A throwaway PostgreSQL cluster in a folder, for the tests of the state store on a shared server.

`initdb` makes a cluster in a temp folder (trust authentication, UTF-8), `pg_ctl` starts it on 127.0.0.1 on a free
port and stops it; `stop()` removes the folder.  PostgreSQL refuses to run as root, so when the tests run as root
the cluster is made and run as the `postgres` user that Debian's package creates (POSIX only; on Windows point
REPLICATOR_TEST_PG_URL at a server instead).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .mariadb import free_port

USER = "replicator"


class LocalPostgresError(RuntimeError):
    """The local PostgreSQL could not be started; the message says what is missing."""


def _bin_dir() -> Path | None:
    """The folder of initdb/pg_ctl: Debian keeps them in /usr/lib/postgresql/<version>/bin, off the PATH."""
    if os.name == "posix":
        for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
            if (Path(candidate) / "pg_ctl").exists() and (Path(candidate) / "initdb").exists():
                return Path(candidate)
    found = shutil.which("pg_ctl")
    return Path(found).parent if found and (Path(found).parent / "initdb").exists() else None


def available() -> bool:
    return _bin_dir() is not None


def _as_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0


@dataclass
class LocalPostgres:
    base_dir: Path | None = None
    port: int = 0

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        # Run as `postgres` when we are root (the server refuses root); subprocess's user= is POSIX only.
        kwargs = {"user": "postgres"} if _as_root() else {}
        return subprocess.run(
            list(args), capture_output=True, text=True, check=check, cwd=self.base_dir, timeout=120, **kwargs
        )

    def start(self) -> "LocalPostgres":
        bin_dir = _bin_dir()
        if bin_dir is None:
            raise LocalPostgresError("PostgreSQL is not installed (Debian: apt-get install postgresql)")
        self.base_dir = Path(tempfile.mkdtemp(prefix="replicator-pg-"))
        if _as_root():
            shutil.chown(self.base_dir, "postgres")
        self.port = self.port or free_port()
        data = self.base_dir / "data"
        try:
            self._run(str(bin_dir / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "-E", "UTF8", "--no-sync")
            self._run(
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(self.base_dir / "server.log"),
                "-w",
                "-o",
                f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            )
        except (subprocess.CalledProcessError, OSError, KeyError) as exc:
            detail = getattr(exc, "stderr", "") or str(exc)
            self.stop()
            raise LocalPostgresError(f"could not start a local PostgreSQL: {detail.strip()[:500]}") from None
        return self

    def ctl(self, action: str, *extra: str) -> None:
        """pg_ctl stop/start/restart on this cluster (a test takes the server away and brings it back)."""
        bin_dir = _bin_dir()
        data = self.base_dir / "data"
        args = [str(bin_dir / "pg_ctl"), "-D", str(data), "-w", *extra, action]
        if action in ("start", "restart"):
            args[-1:-1] = [
                "-l",
                str(self.base_dir / "server.log"),
                "-o",
                f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off",
            ]
        self._run(*args)

    def stop(self) -> None:
        if self.base_dir is None:
            return
        bin_dir = _bin_dir()
        if bin_dir and (self.base_dir / "data" / "postmaster.pid").exists():
            self._run(
                str(bin_dir / "pg_ctl"), "-D", str(self.base_dir / "data"), "-m", "fast", "-w", "stop", check=False
            )
        shutil.rmtree(self.base_dir, ignore_errors=True)
        self.base_dir = None
