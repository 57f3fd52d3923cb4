"""Country codes: which ISO 3166-1 alpha-2 codes exist, and which ones Amazon normalizes.

A CRM export may spell the country as a code (`us`, `UK`), an ISO alpha-3 code (`DEU`) or an
English name (`Germany`, `United States`); all of them mean the same alpha-2 code.
"""

import json
import re
import unicodedata
from functools import cache
from importlib import resources

import pyarrow as pa
import pyarrow.compute as pc

from adu_pipeline.normalization.arrow import string, strings
from adu_pipeline.normalization.reasons import Reason

SUPPORTED_COUNTRIES: frozenset[str] = frozenset(
    {"US", "CA", "GB", "DE", "FR", "IT", "ES", "IN", "JP"}
)

# Static so that a valid-but-unsupported code can be told apart from a typo.
_ISO_ALPHA2_TEXT = """
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ
    BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM
    DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS
    GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN
    KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ
    MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM
    PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV
    SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI
    VN VU WF WS YE YT ZA ZM ZW
"""
ISO_ALPHA2: frozenset[str] = frozenset(_ISO_ALPHA2_TEXT.split())

# Amazon's normalization SDK and the rule-based audience API spell the United Kingdom "UK".
_ALIASES = {"UK": "GB"}


_NOT_KEY = re.compile(r"[^A-Z0-9 ]+")


def _key(text: str) -> str:
    """Upper case, accents and punctuation dropped, one space between words, no leading THE."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in folded if not unicodedata.combining(ch)).upper()
    words = _NOT_KEY.sub("", plain.replace("&", " AND ").replace("-", " ")).split()
    return " ".join(words[1:] if words[:1] == ["THE"] and len(words) > 1 else words)


@cache
def _spellings() -> dict[str, str]:
    """Alpha-3 codes and English names (tables/country_names.json, names as phonenumbers'
    English geocoder spells them plus common variants) -> alpha-2."""
    path = resources.files(__package__).joinpath("tables", "country_names.json")
    table = json.loads(path.read_text(encoding="utf-8"))
    spellings = {_key(name): code for name, code in table["names"].items()}
    spellings.update(table["alpha3"])
    return spellings


def canonical_country(code: str | None) -> str | None:
    """Canonical ISO alpha-2 or None when not a country: " uk" -> "GB", "us" -> "US",
    "DEU" -> "DE", "Germany" -> "DE", "United States of America" -> "US"."""
    if code is None:
        return None
    key = code.strip().upper()
    key = _ALIASES.get(key, key)
    if key in ISO_ALPHA2:
        return key
    return _spellings().get(_key(code))


def country_reason(code: str | None) -> Reason | None:
    """The reason PII of a row with this canonical code (or None) cannot be normalized."""
    if code is None:
        return Reason.COUNTRY_MISSING
    return None if code in SUPPORTED_COUNTRIES else Reason.COUNTRY_UNSUPPORTED


def normalize_countries(values: pa.Array | pa.ChunkedArray) -> tuple[pa.Array, pa.Array]:
    """Per row: (ISO code or null, reason or null); reason says why PII can't be normalized.

    Blank -> (null, country_missing); not a country -> (null, country_unsupported);
    a valid code outside SUPPORTED_COUNTRIES keeps its code with country_unsupported.
    Works on the distinct values only, so a country column costs next to nothing.
    """
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    if not pa.types.is_dictionary(values.type):
        values = pc.dictionary_encode(values.cast(pa.string()))
    dictionary = values.dictionary.cast(pa.string()).to_pylist()
    codes = [canonical_country(v) for v in dictionary]
    reasons = [
        Reason.COUNTRY_UNSUPPORTED.value
        if code is None and (raw or "").strip()
        else (country_reason(code).value if country_reason(code) else None)
        for raw, code in zip(dictionary, codes, strict=True)
    ]
    indices = values.indices
    code_arr = pc.take(strings(codes), indices)
    reason_arr = pc.take(strings(reasons), indices)
    # Null input rows have null indices -> null code; their reason is country_missing.
    reason_arr = pc.if_else(pc.is_null(indices), string(Reason.COUNTRY_MISSING.value), reason_arr)
    return code_arr, reason_arr
