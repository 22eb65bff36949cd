"""Pseudonymized customer ids for any table a report shows at customer level.

A pseudonym is ``P`` followed by the first 12 hexadecimal digits of
HMAC-SHA256(salt, customer id) (RFC 2104): stable for a given salt, so a
researcher holding the salt can find the customer again, and not reversible
without it. The salt comes from the environment variable
``CRMLIB_PSEUDONYM_SALT`` or, failing that, from the params; for real bank data
keep it out of the params file.
"""
from __future__ import annotations

import hashlib
import hmac
import os

import pandas as pd

from .errors import InputError

__all__ = ["SALT_ENV", "PSEUDONYM_METHOD", "pseudonym_salt", "salt_source", "pseudonymize"]

#: Environment variable holding the pseudonym key (overrides the params).
SALT_ENV = "CRMLIB_PSEUDONYM_SALT"
#: How a pseudonym is made, as the reports state it.
PSEUDONYM_METHOD = "P + first 12 hex digits of HMAC-SHA256(salt, customer id)"


def pseudonym_salt(configured: str | None, *, file=None, key: str | None = None) -> str:
    """The salt: ``$CRMLIB_PSEUDONYM_SALT`` if set, else ``configured``; an error if neither is given."""
    salt = os.environ.get(SALT_ENV) or configured
    if not salt:
        raise InputError(f"customer ids in reports are pseudonymized: set {SALT_ENV} or give a salt in the params",
                         file=file, key=key)
    return salt


def salt_source(key: str) -> str:
    """Where :func:`pseudonym_salt` takes the salt from, as a report states it (never the salt itself): the
    environment variable, or the params ``key``."""
    return f"environment variable {SALT_ENV}" if os.environ.get(SALT_ENV) else f"params key {key}"


def pseudonymize(ids, salt: str) -> pd.Series:
    """Keyed-hash pseudonym of each customer id (module docstring), indexed by the ids."""
    key = salt.encode("utf-8")
    return pd.Series(["P" + hmac.new(key, str(i).encode("utf-8"), hashlib.sha256).hexdigest()[:12] for i in ids],
                     index=pd.Index(ids), name="pseudonym")
