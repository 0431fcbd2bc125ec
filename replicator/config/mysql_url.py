"""The shop's `mysql://` URL as PyMySQL's connection arguments, its TLS options named as the MySQL client names
them; a password holding `/ # ? @ %` is split by `replicator.urls`."""

from __future__ import annotations

from replicator.urls import split_url


def parse_mysql_url(url: str) -> dict:
    """``mysql://user:pass@host:port/db?ssl_mode=verify_identity&ssl_ca=/path/ca.pem`` -> keyword arguments for
    ``pymysql.connect``.

    TLS options, named as the MySQL client names them: ``ssl_mode`` = ``disabled``, ``preferred`` (the default:
    encrypted when the server offers it, the certificate not checked), ``required`` (encrypted or no connection),
    ``verify_ca`` (and the server's certificate signed by ``ssl_ca``), ``verify_identity`` (and issued to the host
    name); ``ssl_ca``, ``ssl_cert``, ``ssl_key``: file paths.  Raises ValueError naming an unknown or bad option.
    """
    try:
        parsed = split_url(url)
    except ValueError as exc:
        raise ValueError(f"PrestaShop URL: {exc}") from None
    if parsed.scheme not in ("mysql", "mariadb", "mysql+pymysql"):
        raise ValueError("PrestaShop URL must start with mysql:// (got scheme %r)" % parsed.scheme)
    params: dict = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 3306,
        "user": parsed.username or "root",
        "password": parsed.password or "",
        "charset": "utf8mb4",
    }
    if parsed.database:
        params["database"] = parsed.database
    options = {key.replace("-", "_").lower(): value for key, value in parsed.options}
    unknown = sorted(set(options) - {"ssl_mode", "ssl_ca", "ssl_cert", "ssl_key", "charset"})
    if unknown:
        raise ValueError(
            f"PrestaShop URL: unknown option(s) {', '.join(unknown)} (known: ssl_mode, ssl_ca, ssl_cert, "
            "ssl_key, charset)"
        )
    if options.get("charset", "utf8mb4").lower() != "utf8mb4":
        raise ValueError("PrestaShop URL: charset must be utf8mb4, the character set of PrestaShop's tables")
    params.update(_tls_params(options))
    return params


TLS_MODES = ("disabled", "preferred", "required", "verify_ca", "verify_identity")


def _tls_params(options: dict[str, str]) -> dict:
    """PyMySQL's TLS arguments for the URL's ssl_* options (see `parse_mysql_url`)."""
    mode = options.get("ssl_mode", "preferred").lower()
    if mode not in TLS_MODES:
        raise ValueError(f"PrestaShop URL: ssl_mode must be one of {', '.join(TLS_MODES)} (got {mode!r})")
    if mode == "disabled":
        return {"ssl_disabled": True}
    ca = options.get("ssl_ca") or None
    if mode in ("verify_ca", "verify_identity") and not ca:
        raise ValueError(f"PrestaShop URL: ssl_mode={mode} needs ssl_ca, the CA certificate file to check against")
    client = {name: options[f"ssl_{name}"] for name in ("cert", "key") if options.get(f"ssl_{name}")}
    if mode == "required":
        return {"ssl": {"verify_mode": False, **({"ca": ca} if ca else {}), **client}}
    out = {f"ssl_{name}": value for name, value in client.items()}
    if ca:
        out.update(ssl_ca=ca, ssl_verify_cert=mode != "preferred", ssl_verify_identity=mode == "verify_identity")
    return out
