"""An SSH tunnel to the shop's database server (paramiko): every shop connection, the binlog stream included.

`route_through_ssh(config)` opens one tunnel per process when `prestashop.ssh` is set and points
`prestashop.url` at its local end (127.0.0.1 and a free port, this machine only); the database host and port
in the URL are then as seen from the SSH server (often 127.0.0.1:3306).  The initial sync's child process gets
the routed URL and uses the same tunnel.

The server's host key is checked against `known_hosts` (OpenSSH's format): a different key is always refused, an
unknown host is refused unless the user accepted it, once, with `replicator ssh trust` or with
`accept_new_host_key: true` (the key is then written to known_hosts and checked from then on).

The SSH session is opened at start (so a bad host, key or password stops the start with one sentence) and again,
when it dropped, by the next database connection that needs it; a failure then closes that database connection
and is kept as `last_error`, which `shop_errors.explain` reports instead of the driver's "lost connection".
"""

from __future__ import annotations

import logging
import select
import socket
import threading
import time
import weakref

import paramiko

from replicator.config import SshConfig as SshSettings
from replicator.urls import split_url, with_host

log = logging.getLogger("replicator.prestashop.tunnel")


class TunnelError(RuntimeError):
    """The SSH tunnel could not be opened; `sentence` says what and what to do."""

    def __init__(self, sentence: str):
        super().__init__(sentence)
        self.sentence = sentence


def _fingerprint(key: paramiko.PKey) -> str:
    return f"{key.get_name()} {key.fingerprint}" if hasattr(key, "fingerprint") else key.get_name()


def _lookup_name(host: str, port: int) -> str:
    return host if port == 22 else f"[{host}]:{port}"


class _Policy(paramiko.MissingHostKeyPolicy):
    """Unknown host: refused, or (when the user accepted new keys) written to known_hosts."""

    def __init__(self, ssh: SshSettings, accept: bool):
        self.ssh, self.accept = ssh, accept
        self.seen: paramiko.PKey | None = None

    def missing_host_key(self, client, hostname, key):
        self.seen = key
        where = _lookup_name(self.ssh.host, self.ssh.port)
        if not self.accept:
            raise TunnelError(
                f"the SSH host {where} is not in {self.ssh.known_hosts} (its key is {_fingerprint(key)}): check "
                "that fingerprint with the host's administrator, then run `replicator ssh trust` or set "
                "prestashop.ssh.accept_new_host_key: true"
            )
        client.get_host_keys().add(hostname, key.get_name(), key)
        path = self.ssh.known_hosts
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path, "a", encoding="utf-8") as out:
            out.write(f"{hostname} {key.get_name()} {key.get_base64()}\n")
        log.warning("SSH host %s accepted and written to %s: %s", where, path, _fingerprint(key))


def open_client(ssh: SshSettings, accept_new: bool | None = None) -> paramiko.SSHClient:
    """An authenticated SSH client, host key checked; raises TunnelError with one sentence."""
    client = paramiko.SSHClient()
    if ssh.known_hosts is None:
        raise TunnelError("prestashop.ssh.known_hosts is not set: name the known_hosts file to check the host key with")
    if ssh.known_hosts.exists():
        try:
            client.load_host_keys(str(ssh.known_hosts))
        except (OSError, paramiko.SSHException) as exc:
            raise TunnelError(f"cannot read the known_hosts file {ssh.known_hosts} ({exc})") from None
    policy = _Policy(ssh, ssh.accept_new_host_key if accept_new is None else accept_new)
    client.set_missing_host_key_policy(policy)
    where = f"{ssh.user}@{ssh.host}:{ssh.port}"
    kwargs = dict(
        hostname=ssh.host,
        port=ssh.port,
        username=ssh.user,
        timeout=ssh.timeout,
        banner_timeout=ssh.timeout,
        auth_timeout=ssh.timeout,
        look_for_keys=False,
        allow_agent=False,
    )
    if ssh.key_file:
        kwargs.update(key_filename=str(ssh.key_file), passphrase=ssh.passphrase or ssh.password or None)
    else:
        kwargs.update(password=ssh.password)
    try:
        client.connect(**kwargs)
    except TunnelError:
        client.close()
        raise
    except paramiko.BadHostKeyException as exc:
        client.close()
        raise TunnelError(
            f"the SSH host {ssh.host}:{ssh.port} presented a key ({_fingerprint(exc.key)}) that does not match "
            f"{ssh.known_hosts}: refused, as someone may be in between; if the host's key really changed, remove "
            "its old line from known_hosts and trust it again"
        ) from None
    except paramiko.AuthenticationException:
        client.close()
        how = f"the key {ssh.key_file}" if ssh.key_file else "the password"
        raise TunnelError(
            f"the SSH server {where} refused {how}: check prestashop.ssh.user and that the key is "
            "in the user's authorized_keys (or the password)"
        ) from None
    except paramiko.PasswordRequiredException:
        client.close()
        raise TunnelError(
            f"the SSH key {ssh.key_file} is encrypted: give its passphrase in "
            "prestashop.ssh.passphrase (as ${ENV_VAR})"
        ) from None
    except (OSError, paramiko.SSHException, EOFError) as exc:
        client.close()
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc) or "no answer"
        raise TunnelError(
            f"cannot reach the SSH host {ssh.host}:{ssh.port} ({detail.rstrip('.')}): check the "
            "host, the port and the firewall"
        ) from None
    return client


class Tunnel:
    """A local listener on 127.0.0.1 whose connections are forwarded, each on its own SSH channel, to
    (remote_host, remote_port) as seen from the SSH server."""

    def __init__(self, ssh: SshSettings, remote_host: str, remote_port: int):
        self.ssh, self.remote = ssh, (remote_host, remote_port)
        self.last_error = ""
        self.last_error_at = 0.0
        self._client: paramiko.SSHClient | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener: socket.socket | None = None
        self.local_port = 0

    def start(self) -> "Tunnel":
        self._transport()  # a bad host, key or password stops the start here, in one sentence
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(32)
        listener.settimeout(0.5)
        self._listener, self.local_port = listener, listener.getsockname()[1]
        threading.Thread(target=self._accept, name="ssh-tunnel", daemon=True).start()
        _LIVE.add(self)
        log.info(
            "SSH tunnel to %s@%s:%s open; shop database %s:%s reached through it",
            self.ssh.user,
            self.ssh.host,
            self.ssh.port,
            *self.remote,
        )
        return self

    def stop(self) -> None:
        self._stop.set()
        _LIVE.discard(self)
        if self._listener is not None:
            self._listener.close()
        with self._lock:
            if self._client is not None:
                self._client.close()
                self._client = None

    def _transport(self) -> paramiko.Transport:
        with self._lock:
            transport = self._client.get_transport() if self._client else None
            if transport is None or not transport.is_active():
                if self._client is not None:
                    self._client.close()
                    log.info("SSH session to %s:%s ended; opening it again", self.ssh.host, self.ssh.port)
                self._client = None
                client = open_client(self.ssh)
                transport = client.get_transport()
                transport.set_keepalive(30)
                self._client = client
            return transport

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                local, peer = self._listener.accept()
            except socket.timeout:
                continue
            except OSError:
                return  # listener closed
            threading.Thread(target=self._forward, args=(local, peer), name="ssh-tunnel-conn", daemon=True).start()

    def _forward(self, local: socket.socket, peer) -> None:
        try:
            channel = self._transport().open_channel("direct-tcpip", self.remote, peer, timeout=self.ssh.timeout)
        except TunnelError as exc:
            self._failed(exc.sentence)
            local.close()
            return
        except (OSError, paramiko.SSHException, EOFError) as exc:
            self._failed(
                f"the SSH server {self.ssh.host}:{self.ssh.port} would not forward to the database at "
                f"{self.remote[0]}:{self.remote[1]} ({str(exc) or 'refused'}): check the host and port in "
                "prestashop.url as seen from the SSH server, and that it allows TCP forwarding"
            )
            local.close()
            return
        self.last_error = ""
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([local, channel], [], [], 1.0)
                if local in ready:
                    data = local.recv(65536)
                    if not data:
                        break
                    channel.sendall(data)
                if channel in ready:
                    data = channel.recv(65536)
                    if not data:
                        break
                    local.sendall(data)
        except (OSError, paramiko.SSHException, EOFError):
            pass  # either end went away: the database driver sees a lost connection and retries
        finally:
            for end in (channel, local):
                try:
                    end.close()
                except (OSError, paramiko.SSHException, EOFError):
                    pass  # the SSH transport is already gone (closing the channel would write to it): nothing to end

    def _failed(self, sentence: str) -> None:
        self.last_error, self.last_error_at = sentence, time.monotonic()
        log.warning("SSH tunnel: %s", sentence)


_TUNNELS: dict[tuple, Tunnel] = {}
_LIVE: "weakref.WeakSet[Tunnel]" = weakref.WeakSet()  # started, not stopped: where `recent_failure` looks
_TUNNELS_LOCK = threading.Lock()


def tunnel_for(ssh: SshSettings, remote_host: str, remote_port: int) -> Tunnel:
    """The process's tunnel for these settings, started on first use."""
    key = (ssh, remote_host, remote_port)
    with _TUNNELS_LOCK:
        tunnel = _TUNNELS.get(key)
        if tunnel is None:
            tunnel = _TUNNELS[key] = Tunnel(ssh, remote_host, remote_port).start()
        return tunnel


def recent_failure(within: float = 120.0) -> str:
    """The newest tunnel failure of the last `within` seconds ("" when none): the cause of a lost connection."""
    newest = max(list(_LIVE), key=lambda t: t.last_error_at, default=None)
    if newest and newest.last_error and time.monotonic() - newest.last_error_at < within:
        return newest.last_error
    return ""


def routed_url(url: str, local_port: int) -> str:
    """`url` with its host:port replaced by the tunnel's local end (user, password, database and options kept as
    written: a password holding `/ # ? @ %` too)."""
    return with_host(url, "127.0.0.1", local_port)


def route_through_ssh(config) -> bool:
    """When `config.prestashop.ssh` is set: open the tunnel and point `config.prestashop.url` at it (once).
    Returns whether the shop is reached through SSH.  Raises TunnelError (one sentence) when it can't be opened."""
    ps = config.prestashop
    ssh = getattr(ps, "ssh", None)
    if ssh is None:
        return False
    if getattr(ps, "routed_url", ""):
        return True
    parsed = split_url(ps.url)
    tunnel = tunnel_for(ssh, parsed.host or "127.0.0.1", parsed.port or 3306)
    ps.routed_url = ps.url = routed_url(ps.url, tunnel.local_port)
    return True


__all__ = [
    "SshSettings",
    "Tunnel",
    "TunnelError",
    "open_client",
    "recent_failure",
    "route_through_ssh",
    "routed_url",
    "tunnel_for",
]
