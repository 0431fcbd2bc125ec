"""`ConfigError`: a configuration problem, already phrased for the user."""

from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem, already phrased for the user (file, key, what to do)."""
