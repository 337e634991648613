"""router.parity.compare: two responses and a route's rules -> typed differences at paths and a verdict."""

import ast
import hashlib
import json
from pathlib import Path

import pytest

from router.parity import ABSENT, Difference, DiffKind, DiffResult, Exchange, ParityRules, Verdict, compare

JSON = (("content-type", "application/json"),)
NONE = ParityRules(equivalences=frozenset())


def ex(body, status=200, headers=JSON, **dumps):
    raw = body if isinstance(body, bytes) else json.dumps(body, **dumps).encode()
    return Exchange(status, headers, raw)


def diff(legacy, extracted, rules=ParityRules(), **kw):
    return compare(ex(legacy, **kw), ex(extracted, **kw), rules)


def found(result):
    """(kind, path) of each regression, in order."""
    return [(str(d.kind), d.path) for d in result.differences]


def accepted(result):
    """(equivalence, path) of each accepted equivalence."""
    return [(d.equivalence, d.path) for d in result.equivalences]


# -- the common cases -------------------------------------------------------------------------------

def test_identical_bytes_match():
    result = diff({"a": [1, {"b": True}]}, {"a": [1, {"b": True}]})

    assert result.verdict is Verdict.MATCH
    assert (result.differences, result.equivalences, result.ignored_paths, result.noise_hidden) == ((), (), 0, 0)


def test_key_order_and_whitespace_do_not_matter():
    data = {"b": [1, 2, {"y": None, "x": "s"}], "a": {"d": 1.5, "c": False}}
    result = compare(ex(data), ex(data, sort_keys=True, indent=2), ParityRules())

    assert result.verdict is Verdict.MATCH and result.differences == ()


def test_a_status_difference_is_reported_at_status():
    result = compare(ex({}, status=200), ex({}, status=201), ParityRules())

    assert found(result) == [("changed", "status")]
    assert (result.differences[0].legacy, result.differences[0].extracted) == (200, 201)


# -- kinds of difference ----------------------------------------------------------------------------

def test_a_changed_scalar_is_reported_at_its_path_with_both_values():
    result = diff({"results": [{"price": "1.00"}, {"price": "2.00"}]},
                  {"results": [{"price": "1.00"}, {"price": "2.50"}]})

    assert result.verdict is Verdict.MISMATCH
    [d] = result.differences
    assert (d.kind, d.path, d.legacy, d.extracted, d.equivalence) == (DiffKind.CHANGED, "body.results[1].price",
                                                                     "2.00", "2.50", None)


def test_keys_on_one_side_only_are_missing_or_extra():
    result = diff({"a": 1, "gone": {"x": 1}}, {"a": 1, "new": [1]})

    assert found(result) == [("missing", "body.gone"), ("extra", "body.new")]
    missing, extra = result.differences
    assert (missing.legacy, missing.extracted) == ({"x": 1}, ABSENT)
    assert (extra.legacy, extra.extracted) == (ABSENT, [1])


@pytest.mark.parametrize(("legacy", "extracted"), [
    (True, 1), (False, 0), (1, True), ("1", 1), (None, {}), ([], {}), ("x", None), (0.0, False),
])
def test_another_json_type_is_a_type_difference(legacy, extracted):
    result = diff({"v": legacy}, {"v": extracted}, NONE)

    assert found(result) == [("type", "body.v")]
    assert (result.differences[0].legacy, result.differences[0].extracted) == (legacy, extracted)


@pytest.mark.parametrize(("legacy", "extracted"), [(b"1", b"1.0"), (b"10", b"1e1"), (b"0", b"-0"), (b"2.50", b"2.5")])
def test_numbers_are_equal_when_they_denote_the_same_value(legacy, extracted):
    result = compare(ex(b'{"n": %s}' % legacy), ex(b'{"n": %s}' % extracted), NONE)

    assert result.verdict is Verdict.MATCH


def test_numbers_compare_exactly_not_as_floats():
    result = compare(ex(b'{"n": 0.1}'), ex(b'{"n": 0.10000000000000001}'), NONE)

    assert found(result) == [("changed", "body.n")]


def test_reported_numbers_are_plain_ints_and_floats():
    result = diff({"n": 1, "f": 1.5, "l": [{"k": 3}]}, {"n": 2, "f": 2.5, "l": []})

    values = [(d.legacy, d.extracted) for d in result.differences]
    assert values == [(1, 2), (1.5, 2.5), ({"k": 3}, ABSENT)]
    assert type(values[0][0]) is int and type(values[1][0]) is float


def test_the_same_items_in_another_order_are_one_order_difference():
    result = diff({"ids": [1, 2, 3], "rows": [{"id": 1}, {"id": 2}]}, {"ids": [3, 1, 2], "rows": [{"id": 2}, {"id": 1}]})

    assert found(result) == [("order", "body.ids"), ("order", "body.rows")]
    assert (result.differences[0].legacy, result.differences[0].extracted) == ([1, 2, 3], [3, 1, 2])


def test_reordered_items_with_a_changed_item_are_compared_by_position():
    result = diff({"ids": [1, 2, 3]}, {"ids": [3, 1, 4]})

    assert found(result) == [("changed", "body.ids[0]"), ("changed", "body.ids[1]"), ("changed", "body.ids[2]")]


def test_lists_of_different_length_compare_the_common_prefix_then_the_tail():
    shorter = diff({"l": [1, 2, 3, 4]}, {"l": [1, 9]})
    longer = diff({"l": [1]}, {"l": [1, 2, 3]})

    assert found(shorter) == [("changed", "body.l[1]"), ("missing", "body.l[2]"), ("missing", "body.l[3]")]
    assert found(longer) == [("extra", "body.l[1]"), ("extra", "body.l[2]")]


def test_odd_keys_are_quoted_in_paths():
    result = diff({"a.b": {"": 1}}, {"a.b": {"": 2}})

    assert found(result) == [("changed", 'body["a.b"][""]')]


# -- unordered lists --------------------------------------------------------------------------------

def test_a_list_declared_unordered_without_a_key_compares_as_a_multiset():
    rules = ParityRules(unordered={"body.tags": None})

    assert diff({"tags": ["a", "b", "b"]}, {"tags": ["b", "a", "b"]}, rules).verdict is Verdict.MATCH
    result = diff({"tags": ["a", "b", "b"]}, {"tags": ["b", "c", "a"]}, rules)
    assert found(result) == [("missing", "body.tags[2]"), ("extra", "body.tags[1]")]
    assert (result.differences[0].legacy, result.differences[1].extracted) == ("b", "c")


def test_a_keyed_unordered_list_pairs_items_by_key_and_diffs_the_pairs():
    rules = ParityRules(unordered={"body.results": "sku"})
    legacy = {"results": [{"sku": "A", "qty": 1}, {"sku": "B", "qty": 2}, {"sku": "C", "qty": 3}]}
    extracted = {"results": [{"sku": "D", "qty": 4}, {"sku": "B", "qty": 5}, {"sku": "A", "qty": 1}]}

    result = diff(legacy, extracted, rules)

    assert found(result) == [("changed", 'body.results[sku="B"].qty'), ("missing", 'body.results[sku="C"]'),
                             ("extra", 'body.results[sku="D"]')]
    assert result.differences[0].pattern == "body.results[*].qty"
    assert diff(legacy, {"results": legacy["results"][::-1]}, rules).verdict is Verdict.MATCH


def test_numeric_item_keys_are_written_bare_and_match_across_spellings():
    rules = ParityRules(unordered={"body": "id"})
    result = compare(ex(b'[{"id": 1, "v": 1}, {"id": 2, "v": 1}]'), ex(b'[{"id": 2.0, "v": 1}, {"id": 1, "v": 2}]'),
                     rules)

    assert found(result) == [("changed", "body[id=1].v")]


def test_duplicate_keys_pair_in_order_and_keyless_items_fall_back_to_a_multiset():
    rules = ParityRules(unordered={"body": "id"})
    legacy = [{"id": 1, "v": "a"}, {"id": 1, "v": "b"}, "loose", {"other": 1}]
    extracted = [{"other": 1}, {"id": 1, "v": "a"}, {"id": 1, "v": "c"}, "free"]

    result = diff(legacy, extracted, rules)

    assert found(result) == [("changed", "body[id=1].v"), ("missing", "body[2]"), ("extra", "body[3]")]


def test_unordered_lists_can_be_selected_by_wildcards():
    rules = ParityRules(unordered={"body.results[*].tags": None})

    assert diff({"results": [{"tags": [1, 2]}]}, {"results": [{"tags": [2, 1]}]}, rules).verdict is Verdict.MATCH


# -- ignore and noise -------------------------------------------------------------------------------

def test_ignored_paths_hide_differences_and_count_them():
    rules = ParityRules(ignore_paths=("body.results[*].updated_at",))
    legacy = {"results": [{"id": 1, "updated_at": "x"}, {"id": 2, "updated_at": "y"}, {"id": 3, "updated_at": "z"}]}
    extracted = {"results": [{"id": 1, "updated_at": "X"}, {"id": 2, "updated_at": "y"}, {"id": 4, "updated_at": "Z"}]}

    result = diff(legacy, extracted, rules)

    assert found(result) == [("changed", "body.results[2].id")]
    assert result.ignored_paths == 2  # only values that differed: results[1].updated_at is equal


def test_ignored_values_that_exist_on_one_side_only_are_hidden_too():
    rules = ParityRules(ignore_paths=("body.*.etag",))

    result = diff({"a": {"etag": "1"}, "b": {}}, {"a": {}, "b": {"etag": "2"}}, rules)

    assert result.verdict is Verdict.MATCH and result.ignored_paths == 2


def test_a_double_star_ignores_a_key_at_any_depth():
    rules = ParityRules(ignore_paths=("body.**.etag",))

    result = diff({"etag": 1, "x": [{"etag": 2, "y": {"etag": 3}}]}, {"etag": 9, "x": [{"etag": 8, "y": {"etag": 7}}]},
                  rules)

    assert result.verdict is Verdict.MATCH and result.ignored_paths == 3


def test_ignoring_a_whole_subtree_counts_it_once():
    result = diff({"meta": {"a": 1, "b": 2}}, {"meta": {"a": 3, "b": 4}}, ParityRules(ignore_paths=("body.meta",)))

    assert result.verdict is Verdict.MATCH and result.ignored_paths == 1


def test_status_headers_and_the_whole_body_can_be_ignored():
    rules = ParityRules(ignore_paths=("status", "headers.content-type", "body"))
    legacy = Exchange(200, (("content-type", "application/json"),), b'{"a": 1}')
    extracted = Exchange(201, (("content-type", "text/html"),), b"<p>")

    result = compare(legacy, extracted, rules)

    assert result.verdict is Verdict.MATCH and result.ignored_paths == 3


def test_noise_paths_hide_differences_and_are_counted_apart():
    rules = ParityRules(noise_paths=("body.request_id",), ignore_paths=("body.generated_at",))

    result = diff({"request_id": "a", "generated_at": 1, "n": 1}, {"request_id": "b", "generated_at": 2, "n": 1}, rules)

    assert result.verdict is Verdict.MATCH
    assert (result.ignored_paths, result.noise_hidden) == (1, 1)


def test_a_path_both_ignored_and_noisy_counts_as_ignored():
    rules = ParityRules(noise_paths=("body.x",), ignore_paths=("body.x",))

    assert diff({"x": 1}, {"x": 2}, rules).ignored_paths == 1


def test_items_differing_only_in_ignored_values_are_still_recognised_as_reordered():
    rules = ParityRules(ignore_paths=("body[*].seen",))
    result = diff([{"id": 1, "seen": "a"}, {"id": 2, "seen": "b"}], [{"id": 2, "seen": "c"}, {"id": 1, "seen": "d"}], rules)

    assert found(result) == [("order", "body")]


def test_an_unordered_list_of_ignored_items_is_hidden_as_a_whole():
    rules = ParityRules(ignore_paths=("body.l[*]",), unordered={"body.l": None})

    result = diff({"l": [1, 2]}, {"l": [3]}, rules)

    assert result.verdict is Verdict.MATCH and result.ignored_paths == 1


# -- headers ----------------------------------------------------------------------------------------

def test_only_allow_listed_headers_are_compared():
    legacy = Exchange(200, (("content-type", "application/json"), ("date", "Mon"), ("x-a", "1")), b"{}")
    extracted = Exchange(200, (("content-type", "application/json"), ("date", "Tue"), ("x-a", "2"), ("x-b", "1")), b"{}")

    assert compare(legacy, extracted, ParityRules()).verdict is Verdict.MATCH
    result = compare(legacy, extracted, ParityRules(headers=("X-A", "x-b", "x-c")))
    assert found(result) == [("changed", "headers.x-a"), ("extra", "headers.x-b")]
    assert (result.differences[0].legacy, result.differences[0].extracted) == ("1", "2")


def test_a_header_missing_on_the_extracted_side_is_missing():
    legacy = Exchange(200, (("cache-control", "no-store"),), b"")
    extracted = Exchange(200, (), b"")

    result = compare(legacy, extracted, ParityRules(headers=("cache-control",)))

    assert [(str(d.kind), d.path, d.legacy, d.extracted) for d in result.differences] == [
        ("missing", "headers.cache-control", "no-store", ABSENT)]


def test_repeated_headers_compare_as_lists_in_order():
    legacy = Exchange(200, (("vary", "Accept"), ("vary", "Cookie")), b"")
    extracted = Exchange(200, (("vary", "Cookie"), ("vary", "Accept")), b"")

    [d] = compare(legacy, extracted, ParityRules(headers=("vary",))).differences
    assert (d.legacy, d.extracted) == (["Accept", "Cookie"], ["Cookie", "Accept"])


@pytest.mark.parametrize(("legacy", "extracted"), [
    ("application/json", "application/json; charset=utf-8"),
    ("application/json; charset=UTF-8", "Application/JSON"),
    ("application/problem+json", 'application/problem+json; charset="utf-8"'),
    ("text/html; charset=utf-8", "text/html;charset=UTF-8"),
])
def test_content_types_with_the_same_meaning_are_equal(legacy, extracted):
    result = compare(Exchange(200, (("content-type", legacy),), b"{}"),
                     Exchange(200, (("content-type", extracted),), b"{}"), ParityRules())

    assert result.verdict is Verdict.MATCH


@pytest.mark.parametrize(("legacy", "extracted"), [
    ("application/json", "text/html"),
    ("application/json; charset=latin-1", "application/json"),
    ("text/html", "text/html; charset=utf-8"),  # only JSON defaults to UTF-8
])
def test_content_types_with_another_meaning_differ(legacy, extracted):
    result = compare(Exchange(200, (("content-type", legacy),), b"{}"),
                     Exchange(200, (("content-type", extracted),), b"{}"), ParityRules())

    assert found(result) == [("changed", "headers.content-type")]


def test_header_names_are_matched_case_insensitively():
    legacy = Exchange(200, (("Content-Type", "application/json"),), b"{}")
    extracted = Exchange(200, (("content-type", "text/plain"),), b"{}")

    assert found(compare(legacy, extracted, ParityRules())) == [("changed", "headers.content-type")]


# -- bodies that are not JSON -----------------------------------------------------------------------

def test_other_bodies_compare_as_bytes_and_show_only_length_and_where_they_part():
    html = (("content-type", "text/html"),)
    legacy, extracted = b"<p>secret-token-1</p>", b"<p>secret-token-2!</p>"

    result = compare(Exchange(200, html, legacy), Exchange(200, html, extracted), ParityRules())

    [d] = result.differences
    assert (d.kind, d.path) == (DiffKind.CHANGED, "body")
    # No digest of the raw bytes: a hash of a short body is checked against guesses offline.
    assert d.legacy == {"length": len(legacy), "differs_at": 16}
    assert d.extracted == {"length": len(extracted), "differs_at": 16}
    text = json.dumps(result.as_dict())
    assert "secret-token" not in text and hashlib.sha256(legacy).hexdigest() not in text


def test_json_bodies_are_not_parsed_under_another_content_type():
    text = (("content-type", "text/plain"),)

    result = compare(Exchange(200, text, b'{"a": 1}'), Exchange(200, text, b'{"a":1}'), ParityRules())

    assert found(result) == [("changed", "body")]


def test_bodies_without_a_content_type_are_tried_as_json():
    result = compare(Exchange(200, (), b'{"a": 1}'), Exchange(200, (), b'{"a":2}'), ParityRules())

    assert found(result) == [("changed", "body.a")]


@pytest.mark.parametrize(("legacy", "extracted"), [
    (b'{"a": 1}', b'{"a": 1'),                 # truncated
    (b'{"a": 1}', b'{"a": 1} trailing'),      # not one document
    (b'{"a": 1}', b""),                       # empty
    (b'{"a": 1}', b'{"a": "\xff"}'),          # not UTF-8
])
def test_a_side_that_is_not_valid_json_makes_a_bytes_comparison(legacy, extracted):
    result = compare(ex(legacy), ex(extracted), ParityRules())

    assert found(result) == [("changed", "body")] and set(result.differences[0].legacy) == {"length", "differs_at"}


@pytest.mark.parametrize("depth", [50_000, 700])  # deeper than the parser goes; than the walk goes
def test_json_nested_deeper_than_python_can_walk_falls_back_to_bytes(depth):
    legacy = b"[" * depth + b"1" + b"]" * depth
    extracted = b"[" * depth + b"2" + b"]" * depth

    result = compare(ex(legacy), ex(extracted), ParityRules())

    assert found(result) == [("changed", "body")]
    assert result.differences[0].legacy["length"] == len(legacy)


# -- size cap ---------------------------------------------------------------------------------------

def test_bodies_over_the_cap_are_skipped_with_a_note():
    rules = ParityRules(max_body_bytes=10)

    result = compare(ex({"a": "x" * 20}, status=200), ex({"a": "y"}, status=500), rules)

    assert result.verdict is Verdict.SKIPPED
    assert result.differences == () and result.equivalences == ()
    assert "max_body_bytes" in result.note and "cap 10" in result.note
    assert result.as_dict()["note"] == result.note


def test_a_body_at_the_cap_is_compared():
    assert diff({"a": 1}, {"a": 2}, ParityRules(max_body_bytes=8)).verdict is Verdict.MISMATCH


# -- equivalence classes ----------------------------------------------------------------------------

@pytest.mark.parametrize("extracted", [
    "2026-11-01T10:00:00.000000+00:00", "2026-11-01T11:00:00+01:00", "2026-11-01 10:00:00Z", "2026-11-01T10:00Z",
])
def test_the_same_instant_written_another_way_is_equivalent(extracted):
    result = diff({"at": "2026-11-01T10:00:00Z"}, {"at": extracted})

    assert result.verdict is Verdict.EQUIVALENT
    assert result.differences == () and accepted(result) == [("instant", "body.at")]


@pytest.mark.parametrize(("legacy", "extracted"), [
    ("2026-11-01T10:00:00Z", "2026-11-01T10:00:01Z"),       # another instant
    ("2026-11-01T10:00:00Z", "2026-11-01T10:00:00"),        # aware vs naive: unknown offset
    ("2026-11-01", "2026-11-01T00:00:00Z"),                 # a date is not an instant
    ("2026-11-01T10:00:00Z", "2026-11-01T10:00:00Zjunk"),   # looks like one, is not
])
def test_other_instants_and_non_instants_are_regressions(legacy, extracted):
    assert found(diff({"at": legacy}, {"at": extracted})) == [("changed", "body.at")]


@pytest.mark.parametrize(("legacy", "extracted"), [("10.50", "10.5"), ("10.50", 10.5), ("10", 10), ("1e2", "100.0")])
def test_the_same_decimal_written_two_ways_is_equivalent(legacy, extracted):
    result = diff({"price": legacy}, {"price": extracted})

    assert result.verdict is Verdict.EQUIVALENT and accepted(result) == [("decimal", "body.price")]
    kind = "changed" if type(legacy) is type(extracted) else "type"
    assert str(result.equivalences[0].kind) == kind


@pytest.mark.parametrize(("legacy", "extracted"), [("10.50", "10.51"), ("10.50", 10.51), ("abc", "abd"), ("NaN", "nan"),
                                                   ("1", True)])
def test_different_or_non_numeric_values_are_not_decimal_equivalents(legacy, extracted):
    assert diff({"price": legacy}, {"price": extracted}).verdict is Verdict.MISMATCH


def test_pagination_links_differing_only_in_scheme_and_host_are_equivalent():
    result = diff({"next": "http://legacy:8001/api/products/?page=2", "previous": None},
                  {"next": "https://api.example.com/api/products/?page=2", "previous": None})

    assert result.verdict is Verdict.EQUIVALENT and accepted(result) == [("pagination_host", "body.next")]


def test_links_to_another_page_or_path_are_regressions():
    result = diff({"next": "http://legacy/api/products/?page=2", "up": "http://legacy/api/"},
                  {"next": "http://extracted/api/products/?page=3", "up": "http://extracted/api/v2/"})

    assert found(result) == [("changed", "body.next"), ("changed", "body.up")]


@pytest.mark.parametrize("extracted", [
    {"detail": [{"msg": "Not found.", "loc": ["path", "id"], "type": "not_found"}]},
    {"error": "Not found."},
    {"message": "Not found.", "code": 404},
    {"error": {"message": "Not found.", "code": "not_found"}},
])
def test_error_bodies_with_the_same_message_in_another_shape_are_equivalent(extracted):
    result = diff({"detail": "Not found."}, extracted, status=404)

    assert result.verdict is Verdict.EQUIVALENT
    assert accepted(result) == [("error_body", "body")]
    assert result.equivalences[0].legacy == {"detail": "Not found."}


def test_field_errors_nested_under_an_error_key_count_as_messages():
    result = diff({"errors": {"price": ["Must be positive."]}}, {"detail": [{"msg": "Must be positive."}]}, status=400)

    assert accepted(result) == [("error_body", "body")]


@pytest.mark.parametrize(("legacy", "extracted", "legacy_status", "extracted_status"), [
    ({"detail": "Not found."}, {"detail": "No such product."}, 404, 404),   # another message
    ({"detail": "Not found."}, {"error": "Not found."}, 404, 410),           # another status
    ({"detail": "Not found."}, {"error": "Not found."}, 200, 200),          # not an error
    ({"detail": "Not found."}, {"title": "Not found."}, 404, 404),          # not an error body
])
def test_other_errors_are_regressions(legacy, extracted, legacy_status, extracted_status):
    result = compare(ex(legacy, status=legacy_status), ex(extracted, status=extracted_status), ParityRules())

    assert result.verdict is Verdict.MISMATCH and not any(d.equivalence == "error_body" for d in result.equivalences)


@pytest.mark.parametrize(("klass", "legacy", "extracted", "status"), [
    ("instant", {"at": "2026-11-01T10:00:00Z"}, {"at": "2026-11-01T11:00:00+01:00"}, 200),
    ("decimal", {"price": "10.50"}, {"price": 10.5}, 200),
    ("pagination_host", {"next": "http://a/x?page=2"}, {"next": "http://b/x?page=2"}, 200),
    ("error_body", {"detail": "Nope."}, {"error": "Nope."}, 404),
])
def test_a_disabled_equivalence_class_is_a_regression(klass, legacy, extracted, status):
    enabled = ParityRules()
    disabled = ParityRules(equivalences=frozenset(ParityRules().equivalences - {klass}))

    assert diff(legacy, extracted, enabled, status=status).verdict is Verdict.EQUIVALENT
    result = diff(legacy, extracted, disabled, status=status)
    assert result.verdict is Verdict.MISMATCH and result.equivalences == ()


def test_regressions_and_equivalences_are_reported_apart():
    result = diff({"at": "2026-11-01T10:00:00Z", "n": 1}, {"at": "2026-11-01T10:00:00+00:00", "n": 2})

    assert result.verdict is Verdict.MISMATCH
    assert found(result) == [("changed", "body.n")] and accepted(result) == [("instant", "body.at")]


# -- signatures and plain data ----------------------------------------------------------------------

def test_the_same_shapes_at_other_positions_have_the_same_signature():
    a = diff({"results": [{"price": 1}, {"price": 2}, {"price": 3}]}, {"results": [{"price": 1}, {"price": 9}, {"price": 3}]})
    b = diff({"results": [{"price": 1}, {"price": 2}, {"price": 3}]}, {"results": [{"price": 0}, {"price": 2}, {"price": 7}]})

    assert a.differences[0].pattern == "body.results[*].price"
    assert a.signature() == b.signature()
    assert len(a.signature()) == 16


def test_another_shape_has_another_signature():
    base = diff({"a": 1, "b": 1}, {"a": 2, "b": 1})

    assert base.signature() != diff({"a": 1, "b": 1}, {"a": 1, "b": 2}).signature()   # another path
    assert base.signature() != diff({"a": 1, "b": 1}, {"a": "1", "b": 1}, NONE).signature()  # another kind
    assert base.signature() != diff({"a": 1, "b": 1}, {"a": 2, "b": 2}).signature()   # one more shape


def test_equivalences_and_hidden_values_do_not_change_the_signature():
    rules = ParityRules(ignore_paths=("body.t",))
    plain = diff({"a": 1, "t": 1, "at": "2026-11-01T10:00:00Z"}, {"a": 2, "t": 1, "at": "2026-11-01T10:00:00Z"}, rules)
    noisy = diff({"a": 1, "t": 1, "at": "2026-11-01T10:00:00Z"}, {"a": 2, "t": 2, "at": "2026-11-01T10:00:00+00:00"}, rules)

    assert plain.signature() == noisy.signature()


def test_as_dict_is_plain_json_and_leaves_out_the_absent_side():
    result = diff({"a": 1, "gone": 1, "at": "2026-11-01T10:00:00Z"}, {"a": 2, "at": "2026-11-01T10:00:00+00:00"})

    data = json.loads(json.dumps(result.as_dict()))
    assert data["verdict"] == "mismatch" and data["signature"] == result.signature()
    assert data["differences"] == [
        {"kind": "changed", "path": "body.a", "pattern": "body.a", "legacy": 1, "extracted": 2},
        {"kind": "missing", "path": "body.gone", "pattern": "body.gone", "legacy": 1},
    ]
    assert data["equivalences"][0]["equivalence"] == "instant"
    assert (data["ignored_paths"], data["noise_hidden"]) == (0, 0) and "note" not in data


def test_a_difference_built_by_hand_derives_its_pattern():
    d = Difference(DiffKind.CHANGED, 'body.results[sku="A"].tags[2]', 1, 2)

    assert d.pattern == "body.results[*].tags[*]"
    assert DiffResult(Verdict.MISMATCH, (d,)).signature() == DiffResult(
        Verdict.MISMATCH, (Difference(DiffKind.CHANGED, "body.results[0].tags[0]", 3, 4),)).signature()


def test_absent_is_a_single_falsy_marker_distinct_from_null():
    import pickle

    assert ABSENT is not None and not ABSENT and repr(ABSENT) == "ABSENT"
    assert pickle.loads(pickle.dumps(ABSENT)) is ABSENT


def test_an_exchange_takes_its_content_type_from_the_headers():
    assert Exchange(200, [("content-type", "text/html")], b"").content_type == "text/html"
    assert Exchange(200, (("Content-Type", "a/b"),), b"").headers == (("Content-Type", "a/b"),)
    assert Exchange(200, (), b"").content_type is None
    assert Exchange(200, (("content-type", "a/b"),), b"", content_type="c/d").content_type == "c/d"


# -- purity -----------------------------------------------------------------------------------------

ALLOWED_IMPORTS = {"__future__", "collections", "collections.abc", "dataclasses", "datetime", "decimal", "difflib",
                   "enum", "hashlib", "json", "json.encoder", "re", "types", "typing", "urllib.parse"}


def test_the_engine_imports_nothing_that_does_io():
    package = Path(__file__).resolve().parents[2] / "router" / "parity"
    for module in package.glob("*.py"):
        tree = ast.parse(module.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name in ALLOWED_IMPORTS or name.startswith("router.parity"), f"{module.name} imports {name}"
