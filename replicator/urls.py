"""Split a database URL (`scheme://user:password@host:port/database?options`) without ever quoting its password.

`urllib.parse` reads a password holding `/`, `#` or `?` as part of the host ("Port could not be cast to integer
value as 'Xy7'" shows a piece of it) or loses the database name.  Here the user part ends at the first `@` after
which a host, an optional port, a path and well-formed options follow, so raw `/ # ? @ :` in a password work;
percent-escapes (`%40` for `@`) are decoded.  Error messages name the part that is wrong, never its text when that
text could hold the password.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, unquote

_HOST = re.compile(r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._\-%]*)(?::(?P<port>[^/?]*))?(?P<path>/[^?]*)?")
_QUERY_PAIR = re.compile(r"[A-Za-z0-9_\-.]+=[^&=]*")


@dataclass
class UrlParts:
    scheme: str
    username: str | None = None
    password: str | None = None
    host: str = ""
    port: int | None = None
    database: str = ""
    options: list[tuple[str, str]] = field(default_factory=list)
    raw_password: str | None = None  # as written (before percent-decoding), for redaction


def _query_ok(query: str) -> bool:
    return all(_QUERY_PAIR.fullmatch(pair) for pair in query.split("&") if pair)


def _split_userinfo(url: str) -> tuple[str, str | None, str]:
    """(scheme, the user part as written or None, the rest: host[:port][/path][?options]).  The user part ends at
    the first `@` after which a host, an optional port, a path and well-formed options follow."""
    scheme, sep, rest = url.partition("://")
    if not sep or not re.fullmatch(r"[A-Za-z][A-Za-z0-9+.\-]*", scheme):
        raise ValueError("the URL must start with a scheme, e.g. mysql:// or postgresql://")
    userinfo, tail = None, rest
    for i, ch in enumerate(rest):
        if ch != "@":
            continue
        candidate = rest[i + 1 :]
        hostpart, _, query = candidate.partition("?")
        if "@" not in hostpart and _HOST.fullmatch(hostpart) and _query_ok(query):
            userinfo, tail = rest[:i], candidate
            break
    else:
        if "@" in rest:
            raise ValueError(
                "the part after the last @ is not a host[:port]/database: write @ in the user name or password as %40"
            )
    return scheme, userinfo, tail


def split_url(url: str) -> UrlParts:
    """The parts of `url`; ValueError (whose message never contains the user part) when it can't be read."""
    scheme, userinfo, tail = _split_userinfo(url)
    hostpart, _, query = tail.partition("?")
    match = _HOST.fullmatch(hostpart)
    if not match:
        raise ValueError("the host part is not host[:port]/database")
    if not _query_ok(query):
        raise ValueError("the options after ? must be name=value pairs joined by &")
    parts = UrlParts(scheme=scheme.lower(), host=unquote(match["host"].strip("[]")))
    if match["port"]:
        if not match["port"].isdigit() or not 0 < int(match["port"]) < 65536:
            raise ValueError("the port after host: must be a number from 1 to 65535")
        parts.port = int(match["port"])
    parts.database = unquote((match["path"] or "").lstrip("/"))
    parts.options = parse_qsl(query, keep_blank_values=True)
    if userinfo is not None:
        user, colon, password = userinfo.partition(":")
        parts.username = unquote(user)
        if colon:
            parts.raw_password = password
            parts.password = unquote(password)
    return parts


def with_host(url: str, host: str, port: int) -> str:
    """`url` with its host and port replaced (the user part, path and options kept exactly as written, so a password
    holding `/ # ? @ %` goes through untouched).  ValueError as `split_url`'s, never quoting the password."""
    split_url(url)  # the same checks, the same sentences
    scheme, userinfo, tail = _split_userinfo(url)
    hostpart, question, query = tail.partition("?")
    path = _HOST.fullmatch(hostpart)["path"] or ""
    netloc = f"[{host}]" if ":" in host else host
    return f"{scheme}://{'' if userinfo is None else userinfo + '@'}{netloc}:{port}{path}{question}{query}"


def password_of(url: str) -> list[str]:
    """The password of `url` as written and decoded (empty when there is none or the URL can't be read)."""
    try:
        parts = split_url(url)
    except ValueError:
        return _guess_password(url)
    return [p for p in (parts.raw_password, parts.password) if p]


def _guess_password(url: str) -> list[str]:
    """For a URL that can't be read: everything between `user:` and the last `@`, so redaction still hides it."""
    match = re.match(r"[^:/]+://[^:/@]*:(.*)@", url)
    return [match.group(1), unquote(match.group(1))] if match and match.group(1) else []
