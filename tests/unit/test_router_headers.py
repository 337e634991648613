from router.headers import connection_listed, response_headers, valid_request_id


def test_request_ids_are_kept_when_sane_and_replaced_otherwise():
    assert valid_request_id("abc-123.x:y_z") == "abc-123.x:y_z"
    for bad in (None, "", "has space", "x" * 129, "semi;colon", "new\nline"):
        replaced = valid_request_id(bad)
        assert replaced != bad and len(replaced) == 32


def test_connection_listed_names_are_collected_case_insensitively():
    headers = [(b"connection", b"Keep-Alive, X-Hop"), (b"connection", b"close"), (b"x-hop", b"1")]
    assert connection_listed(headers) == {b"keep-alive", b"x-hop", b"close"}


def test_response_headers_keep_every_set_cookie_and_set_one_request_id():
    raw = [(b"Set-Cookie", b"a=1"), (b"Transfer-Encoding", b"chunked"), (b"Set-Cookie", b"b=2"),
           (b"X-Request-ID", b"upstream-id"), (b"Connection", b"keep-alive"), (b"Content-Type", b"text/plain")]
    out = response_headers(raw, b"x-request-id", b"rid")
    assert out == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2"), (b"content-type", b"text/plain"), (b"x-request-id", b"rid")]
