"""Masking keys in text that leaves the process (recordings, error lines, logs).

A blind `replace(key, "***")` breaks text when the key is short: with a local server's
key `x`, every "x" in a reply or "does not exist" would be masked. A long key is masked
anywhere (it cannot occur by chance); a short one only where a credential stands.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"
#: Keys shorter than this are ordinary words or letters too ("x", "ollama", "none"):
#: masked only where a credential stands, never in reply text.
SHORT_KEY = 8


@functools.lru_cache(maxsize=32)
def _credential_places(secret: str) -> tuple[re.Pattern[str], ...]:
    """Where a short key stands as a credential in text; group `p` is what precedes it."""
    key = re.escape(secret)
    return tuple(
        re.compile(pattern)
        for pattern in (
            # Authorization: Bearer x, Basic x, token x
            rf"(?P<p>(?i:\b(?:bearer|basic|token))\s+){key}(?![\w-])",
            # "Incorrect API key provided: x", api_key=x, "password": "x", Authorization: x
            rf"(?P<p>(?i:\b(?:api[ _-]?key|key|token|secret|password|authorization))"
            rf"(?i:\s+provided)?[\"']?\s*[:=]\s*[\"']?){key}(?![\w-])",
            # a URL's query: ?api_key=x&...
            rf"(?P<p>[?&;][\w.~-]+=){key}(?=$|[&#;\s\"'])",
            # a URL's userinfo: //x@, //user:x@, //x:password@
            rf"(?P<p>//(?:[^/@\s:]*:)?){key}(?=@)",
            rf"(?P<p>//){key}(?=:[^/@\s]*@)",
        )
    )


def mask_credentials(
    text: str, secrets: Iterable[str], *, credential: bool = False, reply: bool = False
) -> str:
    """`text` with each secret replaced by `***` where it can appear.

    A long key is masked anywhere: it cannot occur by chance. A short one only where a
    credential stands (auth header, URL userinfo or query, "API key provided: ...") or
    when `text` is itself a credential field's value (`credential`), and never in the
    reply's own text (`reply`), which a replay must reproduce exactly.
    """
    for secret in secrets:
        if not secret or secret not in text:
            continue
        if len(secret) >= SHORT_KEY:
            text = text.replace(secret, MASK)
        elif reply:
            continue
        elif credential and text.strip() == secret:
            text = MASK
        else:
            for place in _credential_places(secret):
                text = place.sub(rf"\g<p>{MASK}", text)
    return text


def display_url(url: str) -> str:
    """The URL without user:password, which must not end up on screen."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url.rstrip("/")
    netloc = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=netloc)).rstrip("/")
