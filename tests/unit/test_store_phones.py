import pytest

from cti_middleware.store.phones import normalize_number, region_of


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("+8613800138000", "13800138000"),
        ("8613800138000", "13800138000"),
        ("008613800138000", "13800138000"),
        ("13800138000", "13800138000"),
        ("138-0013-8000", "13800138000"),
        (" 138 0013 8000 ", "13800138000"),
        ("138\u00a00013\u00a08000", "13800138000"),
        ("(138)0013.8000", "13800138000"),
        ("１３８００１３８０００", "13800138000"),  # full-width digits
        ("010-12345678", "1012345678"),
        ("01012345678", "1012345678"),
        ("+86 10 1234 5678", "1012345678"),
        ("00861012345678", "1012345678"),
        ("020-87654321", "2087654321"),
        ("+14155552671", "+14155552671"),
        ("0014155552671", "+14155552671"),
        ("+44 20 7946 0958", "+442079460958"),
        ("10086", "10086"),
        ("1000", "1000"),
        ("7", "7"),
    ],
)
def test_normalize_number(raw, expected):
    assert normalize_number(raw) == expected


@pytest.mark.parametrize(
    "raw",
    ["", "   ", "abc", "1380013800O", "anonymous", "+", "++8613800138000",
     "1" * 21, "+" + "1" * 21, "138\n0013", "13800138000;x", "sip:1000@host"],
)
def test_normalize_rejects_garbage(raw):
    with pytest.raises(ValueError, match="not a phone number"):
        normalize_number(raw)


def test_normalize_rejects_non_string():
    with pytest.raises(ValueError):
        normalize_number(13800138000)  # type: ignore[arg-type]


def test_twenty_digits_is_the_limit():
    assert normalize_number("9" * 20) == "9" * 20
    with pytest.raises(ValueError):
        normalize_number("9" * 21)


def test_ip_dialling_prefix_is_dropped():
    # Chinese carriers' long-distance prefixes are not part of the number.
    assert normalize_number("17951 13800138000") == "13800138000"


@pytest.mark.parametrize(
    ("number", "region"),
    [
        ("13800138000", "北京市"),
        ("+8613900139000", "上海市"),
        ("010-12345678", "北京市"),
        ("020-87654321", "广东省广州市"),
        ("+14155552671", "美国"),
    ],
)
def test_region_of_real_prefixes(number, region):
    assert region_of(number) == region


def test_region_of_english():
    assert region_of("13800138000", lang="en") == "Beijing"


@pytest.mark.parametrize("number", ["10086", "1000", "garbage", "", "12"])
def test_region_of_unknown(number):
    assert region_of(number) is None
