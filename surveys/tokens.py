"""Secrets that open a survey: an invitation's link, a kiosk's page.

A token is 192 random bits (URL-safe text); only its SHA-256 digest is stored, so the table
alone opens nothing and a link cannot be recovered from a backup. Looking a token up is hashing
it and finding the digest (an index read: no timing clue about other tokens)."""

import hashlib
import re
import secrets

_SHAPE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")


def token_new() -> str:
    return secrets.token_urlsafe(24)


def token_digest(token: str) -> str | None:
    """The stored form of a token; None for text that cannot be one (never looked up)."""
    if not isinstance(token, str) or not _SHAPE.match(token):
        return None
    return hashlib.sha256(token.encode()).hexdigest()


def sampled(percent: int, *parts: object) -> bool:
    """Whether the thing named by `parts` is in a `percent` sample: the same answer on every
    run (a retried task never flips a decision), spread evenly."""
    if percent >= 100:
        return True
    digest = hashlib.sha256(":".join(map(str, parts)).encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent
