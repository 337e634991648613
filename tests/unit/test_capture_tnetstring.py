"""The tnetstring reader of strangler.capture against the format mitmproxy writes flow files in."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from strangler.capture.tnetstring import TNetstringError, iter_values, loads


def dumps(value) -> bytes:
    """A reference encoder, written from the format's description (mitmproxy/io/tnetstring.py)."""
    if value is None:
        return b"0:~"
    if value is True or value is False:
        data, kind = (b"true" if value else b"false"), b"!"
    elif isinstance(value, int):
        data, kind = str(value).encode(), b"#"
    elif isinstance(value, float):
        data, kind = repr(value).encode(), b"^"
    elif isinstance(value, bytes):
        data, kind = value, b","
    elif isinstance(value, str):
        data, kind = value.encode(), b";"
    elif isinstance(value, list):
        data, kind = b"".join(dumps(v) for v in value), b"]"
    else:
        data, kind = b"".join(dumps(k) + dumps(v) for k, v in value.items()), b"}"
    return str(len(data)).encode() + b":" + data + kind


@pytest.mark.parametrize("encoded, value", [
    (b"11:hello world,", b"hello world"),
    (b"5:h\xc3\xa9llo;".replace(b"5:", b"6:"), "héllo"),
    (b"5:12345#", 12345),
    (b"2:-7#", -7),
    (b"3:1.5^", 1.5),
    (b"4:true!", True),
    (b"5:false!", False),
    (b"0:~", None),
    (b"0:]", []),
    (b"19:5:12345#4:true!1:0#]", [12345, True, 0]),
    (b"19:1:a;5:hello,1:b;0:~}", {"a": b"hello", "b": None}),
    (b"12:1:k,5:value,}", {"k": b"value"}),  # old files: byte keys, read as text as mitmproxy does
])
def test_reads_each_type(encoded, value):
    assert loads(encoded) == value


json_like = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.binary(max_size=20) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@given(json_like)
def test_reads_back_what_the_reference_encoder_writes(value):
    assert loads(dumps(value)) == value


def test_iterates_back_to_back_values_with_their_offsets():
    data = dumps({"a": 1}) + dumps([b"x"]) + dumps("z")
    assert list(iter_values(data)) == [(0, {"a": 1}), (len(dumps({"a": 1})), [b"x"]),
                                       (len(dumps({"a": 1})) + len(dumps([b"x"])), "z")]


@pytest.mark.parametrize("data, problem", [
    (b"", "length prefix"),
    (b"abc", "length prefix"),
    (b"5:abc,", "runs past the end"),
    (b"3:abc?", "unknown type character"),
    (b"3:abc!", "invalid boolean"),
    (b"2:x1#", "invalid integer"),
    (b"1:x~", "null with data"),
    (b"4:1:a;}", "dict key without a value"),
    (b"2:\xff\xfe;", "not UTF-8"),
    (b"1234567890123:x,", "length prefix"),
    (b"1:a,junk", "unexpected bytes"),
])
def test_malformed_data_is_refused_saying_what_is_wrong(data, problem):
    with pytest.raises(TNetstringError, match=problem):
        loads(data)


def test_errors_inside_containers_point_at_the_byte_in_the_whole_input():
    data = dumps({"ok": 1}) + b"8:1:a;1:x!}"  # the second value: a dict whose value is a bad boolean
    with pytest.raises(TNetstringError, match="invalid boolean") as caught:
        list(iter_values(data))
    assert caught.value.offset == len(dumps({"ok": 1})) + len(b"8:1:a;1:")  # where the boolean's data starts
