"""A real OpenSSH server on loopback for the tunnel tests: `sshd -D -e -f CONFIG` with a temp host key and an
authorized client key, listening on 127.0.0.1 on a free port.  Under CI=true a missing sshd fails the test."""

from __future__ import annotations

import getpass
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
SEARCH = os.environ.get("PATH", "") + os.pathsep + "/usr/sbin" + os.pathsep + "/usr/local/sbin"


def _missing(what: str):
    message = f"{what}: install openssh-server (make test installs it)"
    pytest.fail(message) if IN_CI else pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keygen(path: Path) -> Path:
    subprocess.run(
        [shutil.which("ssh-keygen", path=SEARCH), "-q", "-t", "ed25519", "-N", "", "-C", "test", "-f", str(path)],
        check=True,
    )
    return path


class Sshd:
    def __init__(self, folder: Path):
        self.sshd = shutil.which("sshd", path=SEARCH)
        if not self.sshd or not shutil.which("ssh-keygen", path=SEARCH):
            _missing("no sshd/ssh-keygen on this machine")
        self.folder = folder
        self.port = _free_port()
        self.user = getpass.getuser()
        self.host_key = keygen(folder / "host_key")
        self.client_key = keygen(folder / "client_key")
        (folder / "authorized_keys").write_text((folder / "client_key.pub").read_text())
        self.known_hosts = folder / "known_hosts"
        host_pub = (folder / "host_key.pub").read_text().split()
        self.known_hosts.write_text(f"[127.0.0.1]:{self.port} {host_pub[0]} {host_pub[1]}\n")
        self.config = folder / "sshd_config"
        self.config.write_text(
            "\n".join(
                [
                    f"Port {self.port}",
                    "ListenAddress 127.0.0.1",
                    f"HostKey {self.host_key}",
                    f"PidFile {folder / 'sshd.pid'}",
                    f"AuthorizedKeysFile {folder / 'authorized_keys'}",
                    "PubkeyAuthentication yes",
                    "PasswordAuthentication no",
                    "KbdInteractiveAuthentication no",
                    "PermitRootLogin prohibit-password",
                    "StrictModes no",
                    "AllowTcpForwarding yes",
                    "UsePAM no",
                    "LogLevel ERROR",
                    "",
                ]
            )
        )
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Sshd":
        Path("/run/sshd").mkdir(parents=True, exist_ok=True)  # privilege separation directory
        self.proc = subprocess.Popen(
            [self.sshd, "-D", "-e", "-p", str(self.port), "-f", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=open(self.folder / "sshd.log", "ab"),
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"sshd exited: {(self.folder / 'sshd.log').read_text()[-500:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        pytest.fail("sshd did not start listening in 10 s")

    def _sessions(self) -> list[int]:
        """The per-session processes this sshd forked (they outlive their parent otherwise)."""
        out = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == self.proc.pid:
                out.append(int(stat.parent.name))
        return out

    def stop(self) -> None:
        """Stop the server and end its open sessions (a dropped SSH connection, as the client sees it)."""
        if self.proc and self.proc.poll() is None:
            for pid in self._sessions():
                try:
                    os.kill(pid, 15)
                except OSError:
                    pass
            self.proc.terminate()
            self.proc.wait(10)
