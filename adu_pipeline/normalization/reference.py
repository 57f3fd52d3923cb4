"""Scalar reference implementation of API.md 5.2/5.2a, one value at a time.

It is the readable statement of the rules: the column functions must agree with it, and they
fall back to it for the rare values their vectorized form cannot express exactly.
"""

import re

import phonenumbers

from adu_pipeline.normalization.countries import SUPPORTED_COUNTRIES, canonical_country
from adu_pipeline.normalization.reasons import PiiType, Reason
from adu_pipeline.normalization.tables import address_word_map, state_map

HASHED = re.compile(r"[0-9a-f]{64}")

_TRANSLITERATION = str.maketrans({"ß": "ss", "ä": "ae", "ö": "oe", "ü": "ue", "ø": "o", "æ": "ae"})
_NOT_ALNUM = re.compile(r"[^a-z0-9]")
_NOT_EMAIL = re.compile(r"[^\w.@-]")
_NOT_UPPER = re.compile(r"[^A-Z]")
_ADDRESS_DELIMITERS = re.compile(r"\bC/O\b|[,!\[\]{}()]|\s+")
_POUND = re.compile(r"([A-Z]*)#([0-9A-Z-/]*)")  # Amazon's POUND_REGEX

# country -> (characters removed, max length, required full shape)
_POSTCODES: dict[str, tuple[re.Pattern, int, re.Pattern]] = {
    "CA": (re.compile(r"[^0-9A-Za-z]"), 6, re.compile(r"(?:[A-Za-z][0-9]){3}")),
    "GB": (
        re.compile(r"[^0-9A-Za-z]"),
        7,
        re.compile(r"[A-Za-z]{1,2}[0-9][A-Za-z0-9]?[0-9][A-Za-z]{2}"),
    ),
    "IN": (re.compile(r"[^0-9]"), 6, re.compile(r"[0-9]{6}")),
    "JP": (re.compile(r"[^0-9]"), 7, re.compile(r"[0-9]{7}")),
}
_DEFAULT_POSTCODE = (re.compile(r"[^0-9]"), 5, re.compile(r"[0-9]{5}"))

Outcome = tuple[str | None, Reason | None]


def name(value: str) -> Outcome:
    """Lower-case, transliterate German/Nordic letters, keep a-z0-9 (other accents drop)."""
    return _nonempty(_NOT_ALNUM.sub("", value.lower().translate(_TRANSLITERATION)))


def city(value: str) -> Outcome:
    """Lower-case and keep a-z0-9, without transliteration (Köln -> kln)."""
    return _nonempty(_NOT_ALNUM.sub("", value.lower()))


def state(value: str, country: str) -> Outcome:
    """A-Z only; full name -> code via the country's map, else the first two letters."""
    cleaned = _NOT_UPPER.sub("", value.upper())
    code = state_map(country).get(cleaned, cleaned[:2])
    return _nonempty(code.lower())


def email(value: str) -> Outcome:
    """Lower-case, keep word characters . @ -, then require local@domain.with.dot."""
    cleaned = _NOT_EMAIL.sub("", value.lower())
    if not cleaned:
        return None, Reason.EMPTY_AFTER_NORMALIZATION
    local, at, domain = cleaned.partition("@")
    if not at or not local or not domain or "@" in domain or "." not in domain:
        return None, Reason.INVALID_EMAIL
    return cleaned, None


def postcode(value: str, country: str) -> Outcome:
    """Strip to the country's alphabet, cut to its length, require its shape; upper case."""
    strip, length, shape = _POSTCODES.get(country, _DEFAULT_POSTCODE)
    cleaned = strip.sub("", value)[:length]
    if not cleaned:
        return None, Reason.EMPTY_AFTER_NORMALIZATION
    if not shape.fullmatch(cleaned):
        return None, Reason.INVALID_POSTCODE
    return cleaned.upper(), None


def address_tokens(value: str, country: str) -> list[str]:
    """Split an upper-cased street line into the words the maps are applied to.

    The dash and '#' passes are Amazon's, quirks included (see _dash_pass, _pound_pass).
    """
    table = address_word_map(country)
    tokens: list[str] = []
    for word in _ADDRESS_DELIMITERS.split(value.strip().upper()):
        # Dotted keys (AVDA., P.ZZA, C.SO, INC.) are looked up before splitting on dots.
        tokens.extend(t for t in ([word] if word in table else word.split(".")) if t)
    _dash_pass(tokens)
    _pound_pass(tokens)
    return tokens


def _dash_pass(tokens: list[str]) -> None:
    """'123-ABC' -> '123', 'ABC' (numeric part, last dash, non-numeric rest), in place.

    As Amazon's Dash.apply (uploader source/glue/library/address_normalizer.py lines 181-192):
    the loop runs over the list's length before the pass, so each split pushes the last
    token out of it (`12-A 34-B` keeps `34-B` whole).
    """
    for i in range(len(tokens)):
        word = tokens[i]
        index = word.rfind("-")
        if 0 < index < len(word) - 1:
            first, second = word[:index], word[index + 1 :]
            if first.isnumeric() and not second.isnumeric():
                tokens[i : i + 1] = [first, second]


def _pound_pass(tokens: list[str]) -> None:
    """'APT#4' -> 'APT', '#', '4', in place, as Amazon's Pound.apply (address_normalizer.py
    lines 69 and 195-227; AddressHash.py lines 1342 and 1456-1478).

    A match becomes the letters A-Z right before '#', '#', and the run of [0-9A-Z-/] after
    it; the rest of the token is dropped (`5#B` -> '#', 'B'). When both runs are empty the
    token stays whole (`&*#` stays `&*#`). A token's next match replaces the last part the
    previous one inserted (Amazon's `i += 1` / `i += 2`), and, as in the dash pass, the loop
    covers only the list's length before the pass.
    """
    for i in range(len(tokens)):
        at = i
        for match in _POUND.finditer(tokens[i]):
            first, second = match.groups()
            if first or second:
                parts = [p for p in (first, "#", second) if p]
                tokens[at : at + 1] = parts
                at += len(parts) - 1


def address(value: str, country: str) -> Outcome:
    """Tokenize, replace each word once via the country's maps, join with nothing, lower-case."""
    table = address_word_map(country)
    return _nonempty("".join(table.get(t, t) for t in address_tokens(value, country)).lower())


# The row countries whose numbers are kept when libphonenumber calls them possible (Amazon's
# uploader, source/glue/library/phone_normalizer.py line 20, `is_possible_number`); elsewhere
# a number must be valid. Chosen per country by agreement with the golden phone hashes
# (adu_pipeline_tests/normalization/data/phone_golden.json.gz, share of all rows, possible /
# valid): US 99.9/88.7, CA 71.0/70.8, DE 73.4/58.1, GB 69.1/59.2 keep possible; ES 79.2/94.5,
# FR 79.2/93.2, IN 70.5/75.3, IT 29.5/77.1, JP 47.5/56.6 keep valid (test_phone_golden.py).
PHONE_KEEPS_POSSIBLE = frozenset({"US", "CA", "DE", "GB"})


def phone_keeps_possible(country: str) -> bool:
    """True: a possible number is kept for this row country; False: it must be valid."""
    return country in PHONE_KEEPS_POSSIBLE


def phone(value: str, country: str) -> Outcome:
    """E.164 digits without '+': explicit +cc kept, else the row's country as default region."""
    if not any(ch.isdigit() for ch in value):
        return None, Reason.EMPTY_AFTER_NORMALIZATION
    try:
        number = phonenumbers.parse(value, country)
    except phonenumbers.NumberParseException:
        return None, Reason.INVALID_PHONE
    if phone_keeps_possible(country):
        kept = phonenumbers.is_possible_number(number)
    else:
        kept = phonenumbers.is_valid_number(number)
    if not kept:
        return None, Reason.INVALID_PHONE
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)[1:], None


def _nonempty(value: str) -> Outcome:
    return (value, None) if value else (None, Reason.EMPTY_AFTER_NORMALIZATION)


def normalize_scalar(value: str | None, pii_type: PiiType, country: str | None) -> Outcome:
    """One value of one row: (normalized value or pre-hashed value, None) or (None, reason)."""
    if value is None or not value.strip():
        return None, Reason.MISSING
    if HASHED.fullmatch(value.strip()):
        return value.strip(), None
    code = canonical_country(country)
    if code is None:
        reason = (
            Reason.COUNTRY_UNSUPPORTED if country and country.strip() else Reason.COUNTRY_MISSING
        )
        return None, reason
    if code not in SUPPORTED_COUNTRIES:
        return None, Reason.COUNTRY_UNSUPPORTED
    match PiiType(pii_type):
        case PiiType.FIRST_NAME | PiiType.LAST_NAME:
            return name(value)
        case PiiType.CITY:
            return city(value)
        case PiiType.STATE:
            return state(value, code)
        case PiiType.EMAIL:
            return email(value)
        case PiiType.ZIP:
            return postcode(value, code)
        case PiiType.ADDRESS:
            return address(value, code)
        case PiiType.PHONE:
            return phone(value, code)
    raise ValueError(f"unknown PII type {pii_type!r}")


def normalize_value(value: str | None, pii_type: PiiType, country: str) -> str | None:
    """The normalized form Amazon hashes, or None when the value must be null."""
    return normalize_scalar(value, pii_type, country)[0]
