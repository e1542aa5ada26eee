"""Phone number normalisation and home-region lookup.

Customers are found by the caller number FreeSWITCH hands us, which arrives
in whatever shape the carrier chose ("+8613800138000", "013800138000",
"008610...", "010-1234 5678"). Every number is reduced to one canonical key
before it is stored or looked up, so the lookup is a single indexed
equality match.

Canonical form:

* Chinese numbers (country code 86, also the default when no country code
  is given) -> the *national significant number*: "13800138000" for a
  mobile, "1012345678" for a Beijing landline. The trunk prefix 0 is
  dropped because it only exists in domestic dialling: the same landline
  reaches us as "010..." from a domestic trunk and "+86 10..." from an
  international one, and only the form without the 0 is shared by both.
* Other countries -> E.164 with the leading "+" ("+14155552671"). The plus
  keeps the two key spaces disjoint: a foreign number can never collide
  with an 11-digit Chinese mobile.
* Short service numbers and extensions ("10086", "1000") stay as dialled.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumberFormat, geocoder

DEFAULT_REGION = "CN"
CHINA_CODE = 86
MAX_DIGITS = 20

# Separators people and carriers put inside numbers (not line breaks: a
# number spanning lines is not something a switch or a form produces).
_SEPARATORS = re.compile(r"[ \t\-().,/]")
_SHAPE = re.compile(rf"\+?[0-9]{{1,{MAX_DIGITS}}}")


def _clean(raw: str) -> str:
    """Strip separators and fold full-width digits; reject anything else."""
    if not isinstance(raw, str):
        # ValueError, not TypeError: callers treat any unusable caller ID alike.
        raise ValueError(f"phone number must be a string, not {type(raw).__name__}")  # noqa: TRY004
    text = _SEPARATORS.sub("", unicodedata.normalize("NFKC", raw).strip())
    if not _SHAPE.fullmatch(text):
        raise ValueError(f"not a phone number: {raw!r}")
    return text


def normalize_number(raw: str) -> str:
    """Return the canonical storage/lookup key for ``raw`` (see module doc).

    Raises ``ValueError`` for empty input, letters or other symbols, or more
    than 20 digits.
    """
    return _normalize(_clean(raw))


@lru_cache(maxsize=4096)
def _normalize(text: str) -> str:
    try:
        parsed = phonenumbers.parse(text, DEFAULT_REGION)
    except NumberParseException as exc:
        if text.startswith("+"):
            raise ValueError(f"not a phone number: {text!r}") from exc
        return text  # a one-digit extension or similar: keep as dialled
    if parsed.country_code == CHINA_CODE:
        return phonenumbers.national_significant_number(parsed)
    return phonenumbers.format_number(parsed, PhoneNumberFormat.E164)


def region_of(number: str, lang: str = "zh") -> str | None:
    """Home region of ``number`` ("北京市", "广东省广州市", "美国"), or None.

    Accepts raw or canonical numbers. Cached because it runs for every
    offered call and the geocoder walks large prefix tables.
    """
    try:
        key = normalize_number(number)
    except ValueError:
        return None
    return _region(key, lang)


@lru_cache(maxsize=4096)
def _region(key: str, lang: str) -> str | None:
    try:
        parsed = phonenumbers.parse(key, DEFAULT_REGION)
    except NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return geocoder.description_for_number(parsed, lang) or None
