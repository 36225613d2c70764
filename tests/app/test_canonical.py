"""RFC 8785 (JCS) canonical JSON: the RFC's own examples, byte for byte."""

import hashlib
import struct

import pytest

from surveyapp.canonical import NotCanonicalisable, canonicalize, digest

# RFC 8785 Appendix B: IEEE 754 bit patterns and the text JCS must give them.
APPENDIX_B = [
    ("0000000000000000", "0"),
    ("8000000000000000", "0"),  # minus zero
    ("0000000000000001", "5e-324"),
    ("8000000000000001", "-5e-324"),
    ("7fefffffffffffff", "1.7976931348623157e+308"),
    ("ffefffffffffffff", "-1.7976931348623157e+308"),
    ("4340000000000000", "9007199254740992"),
    ("c340000000000000", "-9007199254740992"),
    ("4430000000000000", "295147905179352830000"),
    ("44b52d02c7e14af5", "9.999999999999997e+22"),
    ("44b52d02c7e14af6", "1e+23"),
    ("44b52d02c7e14af7", "1.0000000000000001e+23"),
    ("444b1ae4d6e2ef4e", "999999999999999700000"),
    ("444b1ae4d6e2ef4f", "999999999999999900000"),
    ("444b1ae4d6e2ef50", "1e+21"),
    ("3eb0c6f7a0b5ed8c", "9.999999999999997e-7"),
    ("3eb0c6f7a0b5ed8d", "0.000001"),
    ("41b3de4355555553", "333333333.3333332"),
    ("41b3de4355555554", "333333333.33333325"),
    ("41b3de4355555555", "333333333.3333333"),
    ("41b3de4355555556", "333333333.3333334"),
    ("41b3de4355555557", "333333333.33333343"),
    ("becbf647612f3696", "-0.0000033333333333333333"),
    ("43143ff3c1cb0959", "1424953923781206.2"),
]


def _double(bits: str) -> float:
    return struct.unpack(">d", bytes.fromhex(bits))[0]


@pytest.mark.parametrize(("bits", "text"), APPENDIX_B)
def test_numbers_as_in_appendix_b(bits, text):
    assert canonicalize(_double(bits)) == text.encode()


@pytest.mark.parametrize("bits", ["7fffffffffffffff", "7ff0000000000000", "fff0000000000000"])
def test_nan_and_infinities_have_no_canonical_form(bits):
    with pytest.raises(NotCanonicalisable):
        canonicalize({"x": _double(bits)})


def test_the_example_of_section_3_2_4():
    # RFC 8785 §3.2.4, input as in the RFC (its JSON text parsed as Python values).
    value = {
        "numbers": [333333333.33333329, 1e30, 4.50, 2e-3, 0.000000000000000000000000001],
        "string": "\u20ac$\u000f\u000aA'\u0042\u0022\u005c\\\"/",
        "literals": [None, True, False],
    }
    expected = ('{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,'
                '1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}')
    assert canonicalize(value) == expected.encode("utf-8")


def test_property_sorting_of_section_3_2_3():
    # RFC 8785 §3.2.3: names sorted by their UTF-16 code units (the emoji's surrogate pair
    # \ud83d\ude00 sorts before U+FB33, unlike a sort by code points).
    value = {
        "\u20ac": "Euro Sign",
        "\r": "Carriage Return",
        "\ufb33": "Hebrew Letter Dalet With Dagesh",
        "1": "One",
        "\U0001f600": "Emoji: Grinning Face",
        "\u0080": "Control",
        "\u00f6": "Latin Small Letter O With Diaeresis",
    }
    out = canonicalize(value).decode("utf-8")
    order = ["\\r", "1", "\u0080", "\u00f6", "\u20ac", "\U0001f600", "\ufb33"]
    positions = [out.index(f'"{k}":') for k in order]
    assert positions == sorted(positions)


def test_digest_is_sha256_of_the_canonical_bytes_whatever_the_key_order():
    a = {"b": [1, 2.5, "x"], "a": {"d": None, "c": True}}
    b = {"a": {"c": True, "d": None}, "b": [1, 2.5, "x"]}
    assert canonicalize(a) == b'{"a":{"c":true,"d":null},"b":[1,2.5,"x"]}'
    assert digest(a) == digest(b) == hashlib.sha256(canonicalize(a)).hexdigest()
    assert digest(a) != digest({**a, "e": 0})
