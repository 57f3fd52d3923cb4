"""Consent checks over Arrow arrays, with public TC / GPP strings as test vectors.

TCF vectors (decoded values as their sources state them):
- REFERENCE, CMP_681, CMP_92: Mifefr consent-string PHP library, tests/TcStringTest.php.
- KETCH: ketch-com Android SDK, TCFPlugin.kt comment (iabtcf-java's decoding of it).
- AUDIENCEPROJECT: audienceproject/tcf-parser-java README (core + disclosed vendors + publisher TC).
- GPP_TCF: the TCF section of the IAB GPP "Consent String Specification" examples.
GPP vectors: IAB Tech Lab, Global-Privacy-Platform, Core/Consent String Specification.md.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
import pytest

from adu_pipeline.privacy.consent import (
    check_consent,
    check_flag,
    check_gpp,
    check_tcf,
    consent_missing,
    decode_tcf_core,
    gpp_section_ids,
)

REFERENCE = "CQXEyXAQXEyXAAHABDENBkFqAOAAAAwAAAqIAFCEABSAFAAQABgAJgAjoAIACA"
CMP_681 = "COwxsONOwxsONKpAAAENAdCAAMAAAAAAAAAAAAAAAAAA"
CMP_92 = (
    "COxR03kOxR1CqBcABCENAgCMAP_AAH_AAAqIF3EXySoGY2thI2YVFxBEIYwfJxyigMgChgQIsSwNQIeFLBoGLiAAHBGY"
    "JAQAGBAEEACBAQIkHGBMCQAAgAgBiRCMQEGMCzNIBIBAggEbY0FACCVmHkHSmZCY7064O__QLuIJEFQMAkSBAIACLEC"
    "IQwAQDiAAAYAlAAABAhIaAAgIWBQEeAAAACAwAAgAAABBAAACAAQAAICIAAABAAAgAiAQAAAAGgIQAACBABACRIAAA"
    "EANCAAgiCEAQg4EAo4AAA"
)
KETCH = "CPhBZtcPhBZtcACABAENCACgAIAAAAAAAAAAH2QAYH0AfYB9kAGB9YH2AAAA.YAAAAAAAAAAA"
AUDIENCEPROJECT = (
    "COwaAK3OwaAK3GKAAAENAcCAAAAAAAAAAAAAAAAAAAAA.IF0EWSQgAYWwho0QUBzBAIYAfJgSCAMgSAAQIoCkFQICERBA"
    "EKiAQHAEQJAAAGBAAkACAAQAoHCBMCQABgAARiRCEQECIDRNABIBAggAKYQFAAARmikHC3ZCY702yOmQ.YAAAAAAAAAAA"
    "AAAAAAA"
)
GPP_TCF = "CPXxRfAPXxRfAAfKABENB-CgAAAAAAAAAAYgAAAAAAAA"
TCF_V1 = "BOXhscYOXhscYACABDENAE4AAAAAwQgA"  # Mifefr: rejected as version 1
VALID_TCF = [REFERENCE, CMP_681, CMP_92, KETCH, AUDIENCEPROJECT, GPP_TCF]


def row(table: pa.Table, index: int) -> dict:
    return {name: table.column(name)[index].as_py() for name in table.column_names}


def test_tcf_core_header_decodes_to_the_published_values():
    table = decode_tcf_core(pa.array(VALID_TCF))
    assert table.column("valid").to_pylist() == [True] * len(VALID_TCF)
    ref = row(table, 0)
    assert (ref["version"], ref["cmp_id"], ref["cmp_version"], ref["consent_screen"]) == (
        2,
        7,
        1,
        3,
    )
    assert (ref["consent_language"], ref["vendor_list_version"], ref["tcf_policy_version"]) == (
        "EN", 100, 5,
    )  # fmt: skip
    assert (ref["is_service_specific"], ref["use_non_standard_texts"]) == (1, 0)
    assert ref["publisher_cc"] == "FR" and ref["purpose_one_treatment"] == 0
    assert ref["special_feature_opt_ins"] == 0b101 << 9  # features [1, 3] of 12
    assert ref["purposes_consent"] == 0b111 << 21  # purposes [1, 2, 3] of 24
    assert ref["purposes_li_transparency"] == 0b11 << 18  # purposes [5, 6]
    small = row(table, 1)
    assert (small["cmp_id"], small["vendor_list_version"], small["tcf_policy_version"]) == (
        681,
        29,
        2,
    )
    assert small["created"].date().isoformat() == "2020-03-24"
    full = row(table, 2)
    assert (full["cmp_id"], full["cmp_version"], full["consent_screen"]) == (92, 1, 2)
    assert (full["vendor_list_version"], full["publisher_cc"]) == (32, "FR")
    assert full["created"].date().isoformat() == "2020-04-03"
    assert full["created"] != full["last_updated"]
    assert full["max_vendor_consent"] == 750
    assert full["purposes_consent"] == (2**10 - 1) << 14  # purposes 1..10
    ketch = row(table, 3)
    assert ketch["created"] == datetime(2022, 10, 17, 13, 44, 54, tzinfo=UTC)
    assert (ketch["cmp_id"], ketch["cmp_version"], ketch["vendor_list_version"]) == (2, 1, 128)
    assert (ketch["publisher_cc"], ketch["max_vendor_consent"]) == ("AA", 1004)


def test_valid_tcf_strings_pass_and_are_written_trimmed():
    values = pa.array([f"  {s} " for s in VALID_TCF] + [None, "", "   "])
    check = check_tcf(values)
    assert check.reasons.null_count == len(values)
    assert check.values.to_pylist() == [*VALID_TCF, None, None, None]


@pytest.mark.parametrize(
    "value",
    [
        TCF_V1,  # version 1
        REFERENCE[:-8],  # truncated inside the vendor sections
        CMP_92[:40],  # truncated inside the header
        REFERENCE + ".AAAA",  # a segment of type 0 after the core
        REFERENCE.replace("Q", "+", 1),  # not base64url
        REFERENCE + "..YAAA",  # empty segment
        "C" + "A" * 60,  # version 2 but created 0 and cmp id 0
        "hello world",
        "DBABMA~" + GPP_TCF,  # a GPP string in a TCF column
    ],
)
def test_malformed_tcf_is_a_reason_never_a_pass(value):
    check = check_tcf(pa.array([value, REFERENCE]))
    assert check.reasons.to_pylist() == ["consent_malformed_tcf", None]
    assert check.values.to_pylist() == [None, REFERENCE]


ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"


def bits_of(text: str) -> str:
    return "".join(format(ALPHABET.index(c), "06b") for c in text)


def encode(bits: str) -> str:
    bits += "0" * (-len(bits) % 6)
    return "".join(ALPHABET[int(bits[i : i + 6], 2)] for i in range(0, len(bits), 6))


def ranges(max_id: int, entries: list[tuple[int, int]]) -> str:
    """A range-encoded vendor section."""
    out = format(max_id, "016b") + "1" + format(len(entries), "012b")
    for start, end in entries:
        if start == end:
            out += "0" + format(start, "016b")
        else:
            out += "1" + format(start, "016b") + format(end, "016b")
    return out


def tc_string(consent: str, li: str, restrictions: str = "000000000000") -> str:
    """REFERENCE's core header (213 bits) with the given variable sections."""
    return encode(bits_of(REFERENCE)[:213] + consent + li + restrictions)


EMPTY_BITFIELD = format(0, "016b") + "0"


def test_tcf_variable_sections_are_walked_to_their_end():
    restriction = "000111" + "01" + format(1, "012b") + "0" + format(8, "016b")
    good = [
        tc_string(ranges(20, [(3, 5), (19, 19)]), EMPTY_BITFIELD),
        tc_string(format(8, "016b") + "0" + "00100001", ranges(19, [(4, 6), (19, 19)])),
        tc_string(EMPTY_BITFIELD, EMPTY_BITFIELD, format(1, "012b") + restriction),
    ]
    bad = [
        tc_string(ranges(20, [(5, 3)]), EMPTY_BITFIELD),  # end before start
        tc_string(ranges(20, [(0, 0)]), EMPTY_BITFIELD),  # vendor id 0
        tc_string(ranges(4, [(3, 5)]), EMPTY_BITFIELD),  # past MaxVendorId
        tc_string(format(900, "016b") + "0", EMPTY_BITFIELD),  # bit field longer than the string
        tc_string(EMPTY_BITFIELD, EMPTY_BITFIELD, format(2, "012b") + restriction),  # 1 of 2
        encode(bits_of(REFERENCE)[:213] + ranges(20, [(3, 5)])[:-20]),  # cut inside a range
    ]
    valid = decode_tcf_core(pa.array(good + bad)).column("valid").to_pylist()
    assert valid == [True] * len(good) + [False] * len(bad)


def test_gpp_header_sections_match_the_spec_examples():
    assert gpp_section_ids("DBABMA") == (2,)  # EU TCF v2
    assert gpp_section_ids("DBACNYA") == (2, 6)  # EU TCF v2 + US Privacy
    assert gpp_section_ids("DBABjw") == (5, 6)  # a range: Canadian TCF .. US Privacy
    assert gpp_section_ids("CBABMA") is None  # type 2, not the GPP header
    assert gpp_section_ids("DCABMA") is None  # version 2


def test_gpp_strings():
    good = [
        "DBABMA~" + GPP_TCF,
        "DBACNYA~" + GPP_TCF + "~1YNN",
        "DBABjw~" + GPP_TCF + "~1YNN",
    ]
    bad = [
        "DBABMA",  # one section announced, none given
        "DBACNYA~" + GPP_TCF,  # two announced, one given
        "DBABMA~" + GPP_TCF + "~1YNN",  # one announced, two given
        "DBABMA~",  # empty section
        "XBABMA~x",
        GPP_TCF,  # a TC string in a GPP column
        "DBABMA~a b",
    ]
    check = check_gpp(pa.array([*good, *bad, None, " "]))
    assert check.reasons.to_pylist() == [None] * 3 + ["consent_malformed_gpp"] * 7 + [None, None]
    assert check.values.to_pylist()[:3] == good


def test_amazon_flags():
    check = check_flag(pa.array(["GRANTED", " denied ", "Granted", "yes", "1", None, ""]))
    assert check.values.to_pylist() == ["GRANTED", "DENIED", "GRANTED", None, None, None, None]
    assert check.reasons.to_pylist() == [None, None, None] + ["consent_invalid_flag"] * 2 + [
        None,
        None,
    ]
    assert check_consent(pa.array(["x"]), "AMZN_AD_STORAGE").reasons.to_pylist() == [
        "consent_invalid_flag"
    ]


def test_consent_missing_only_for_required_countries():
    countries = pa.array(["DE", "DE", "US", None, "GB"])
    tcf = pa.array([REFERENCE, None, None, None, None])
    flag = pa.array([None, None, None, None, "GRANTED"])
    missing = consent_missing(countries, [tcf, flag], frozenset({"DE", "GB"}), 5)
    assert missing.to_pylist() == [False, True, False, False, False]
    assert consent_missing("DE", [tcf], frozenset({"DE"}), 5).to_pylist() == [
        False, True, True, True, True,
    ]  # fmt: skip
    assert consent_missing(countries, [tcf], frozenset(), 5).to_pylist() == [False] * 5


def test_chunked_and_non_string_input():
    chunked = pa.chunked_array([[REFERENCE], ["bad"]])
    assert check_tcf(chunked).reasons.to_pylist() == [None, "consent_malformed_tcf"]
    assert check_flag(pa.array([1], pa.int64())).reasons.to_pylist() == ["consent_invalid_flag"]
