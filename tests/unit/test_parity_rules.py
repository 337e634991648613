"""router.parity rules: a route's `parity:` mapping parsed into ParityRules, path patterns, and matching."""

import dataclasses
from types import MappingProxyType

import pytest

from router.config import parse_config
from router.parity import EQUIVALENCE_CLASSES, ParityRules, ParityRulesError, PathSyntaxError, parse_rules
from router.parity.matcher import DEAD, IGNORE, NO_RULE, NOISE, PathMatcher, Unordered
from router.parity.paths import ANY_DEPTH, ANY_INDEX, ANY_KEY, ItemKey, generalise, parse_path, parse_pattern, render


def error_for(mapping, where="routes[2]") -> ParityRulesError:
    with pytest.raises(ParityRulesError) as info:
        parse_rules(mapping, where=where)
    return info.value


# -- parse_rules ------------------------------------------------------------------------------------

def test_absent_or_empty_parity_gives_the_defaults():
    assert parse_rules(None, where="routes[0]") == ParityRules()
    assert parse_rules({}, where="routes[0]") == ParityRules()
    default = ParityRules()
    assert default.headers == ("content-type",)
    assert default.equivalences == frozenset(EQUIVALENCE_CLASSES) == {"instant", "decimal", "error_body", "pagination_host"}
    assert default.max_body_bytes == 1_000_000 and default.ignore_paths == default.noise_paths == ()


def test_every_key_is_read():
    rules = parse_rules({
        "ignore_paths": ["body.results[*].updated_at", "body.**.etag"],
        "noise_paths": ["body.request_id"],
        "unordered": {"body.results": "sku", "body.tags": None},
        "headers": ["Content-Type", "Cache-Control"],
        "equivalences": ["instant"],
        "max_body_bytes": 2048,
    }, where="routes[0]")

    assert rules.ignore_paths == ("body.results[*].updated_at", "body.**.etag")
    assert rules.noise_paths == ("body.request_id",)
    assert dict(rules.unordered) == {"body.results": "sku", "body.tags": None}
    assert rules.headers == ("content-type", "cache-control")
    assert rules.equivalences == {"instant"}
    assert rules.max_body_bytes == 2048


def test_an_empty_equivalence_list_disables_them_all():
    assert parse_rules({"equivalences": []}, where="r").equivalences == frozenset()


def test_reads_the_frozen_mapping_that_router_config_stores_on_a_route():
    config = parse_config({
        "version": 1,
        "upstreams": {"legacy": {"url": "http://127.0.0.1:8001"}, "inventory": {"url": "http://127.0.0.1:8101"}},
        "groups": {"inventory": {"upstream": "inventory"}},
        "routes": [{"name": "stock", "group": "inventory", "methods": ["GET"], "path": "/api/stock/",
                    "parity": {"ignore_paths": ["body.results[*].updated_at"], "unordered": {"body.results": "sku"}}}],
    })
    parity = config.route("stock").parity
    assert isinstance(parity, MappingProxyType)

    rules = parse_rules(parity, where="routes[0]")

    assert rules.ignore_paths == ("body.results[*].updated_at",) and dict(rules.unordered) == {"body.results": "sku"}


@pytest.mark.parametrize(("mapping", "key", "message"), [
    (["body.x"], "routes[2].parity", "expected a mapping of parity rules, got ['body.x']"),
    ({"ignored_paths": []}, "routes[2].parity", "unknown key 'ignored_paths' (did you mean 'ignore_paths'?)"),
    ({"ignore_paths": "body.x"}, "routes[2].parity.ignore_paths", "expected a list of path patterns, got 'body.x'"),
    ({"ignore_paths": ["body.a", "body.b", "body.c[*"]}, "routes[2].parity.ignore_paths[2]", "unclosed '['"),
    ({"ignore_paths": ["results[*].updated_at"]}, "routes[2].parity.ignore_paths[0]",
     "did you mean 'body.results[*].updated_at'?"),
    ({"ignore_paths": [7]}, "routes[2].parity.ignore_paths[0]", "expected a path pattern such as"),
    ({"noise_paths": ["body.a..b"]}, "routes[2].parity.noise_paths[0]", "no key name at character 8"),
    ({"unordered": ["body.results"]}, "routes[2].parity.unordered", "expected a mapping of list pattern"),
    ({"unordered": {"body.results": 3}}, "routes[2].parity.unordered['body.results']",
     "expected the name of the field that identifies an item, or null, got 3"),
    ({"unordered": {"body.results[sku=1]": "sku"}}, "routes[2].parity.unordered['body.results[sku=1]']",
     "use [*] in patterns"),
    ({"headers": ["content-type", "bad header"]}, "routes[2].parity.headers[1]",
     "expected a header name, got 'bad header'"),
    ({"equivalences": ["instant", "instnat"]}, "routes[2].parity.equivalences[1]",
     "expected one of instant, decimal, error_body, pagination_host, got 'instnat'"),
    ({"max_body_bytes": 0}, "routes[2].parity.max_body_bytes", "expected a positive integer (bytes), got 0"),
    ({"max_body_bytes": True}, "routes[2].parity.max_body_bytes", "got True"),
    ({"max_body_bytes": "1MB"}, "routes[2].parity.max_body_bytes", "got '1MB'"),
])
def test_errors_name_the_key_and_what_was_expected(mapping, key, message):
    error = error_for(mapping)

    assert error.key == key
    assert str(error).startswith(f"{key}: ")
    assert message in str(error)
    assert isinstance(error, ValueError)


def test_error_keys_start_at_parity_without_a_location():
    assert error_for({"max_body_bytes": -1}, where="").key == "parity.max_body_bytes"


def test_errors_carry_their_parts_for_the_config_loader():
    error = error_for({"ignore_paths": ["body.x", 3]})

    assert (error.key, error.got) == ("routes[2].parity.ignore_paths[1]", 3)
    assert error.expected.startswith("a path pattern")


def test_rules_built_in_code_are_validated_and_normalised():
    rules = ParityRules(ignore_paths=["body.x"], headers=["X-Thing"], unordered={"body.items": None})

    assert rules.ignore_paths == ("body.x",) and rules.headers == ("x-thing",)
    assert isinstance(rules.unordered, MappingProxyType)
    with pytest.raises(ValueError, match="unknown equivalence class 'nope'"):
        ParityRules(equivalences=frozenset({"nope"}))
    with pytest.raises(PathSyntaxError):
        ParityRules(noise_paths=("body[",))


def test_rules_are_frozen_comparable_and_hashable():
    a = ParityRules(ignore_paths=("body.x",), unordered={"body.l": None})
    b = ParityRules(ignore_paths=("body.x",), unordered={"body.l": None})

    assert a == b and hash(a) == hash(b)
    assert a != ParityRules(ignore_paths=("body.y",))
    with pytest.raises(dataclasses.FrozenInstanceError):
        a.max_body_bytes = 1
    assert dataclasses.replace(a, max_body_bytes=5).ignore_paths == ("body.x",)


# -- path syntax ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "parts"), [
    ("status", ("status",)),
    ("headers.content-type", ("headers", "content-type")),
    ("body.results[3].price", ("body", "results", 3, "price")),
    ('body["odd.key"]["with \\"quotes\\""]', ("body", "odd.key", 'with "quotes"')),
    ('body.results[sku="TG-1"].price', ("body", "results", ItemKey("sku", '"TG-1"'), "price")),
    ("body.results[id=3]", ("body", "results", ItemKey("id", "3"))),
    ("body.results[*].updated_at", ("body", "results", ANY_INDEX, "updated_at")),
    ("body.*.etag", ("body", ANY_KEY, "etag")),
    ("**.etag", (ANY_DEPTH, "etag")),
    ('body["*"]', ("body", "*")),
    ("body.2024", ("body", "2024")),
])
def test_paths_read_and_write_back(text, parts):
    assert parse_path(text) == parts
    assert render(parts) == text


def test_keys_that_are_not_plain_names_are_quoted():
    assert render(("body", "a b", "", "é", "[x]")) == 'body["a b"][""]["é"]["[x]"]'
    assert parse_path(render(("body", "a b", "", "é", "[x]"))) == ("body", "a b", "", "é", "[x]")


def test_generalising_replaces_positions_and_keyed_items_with_a_wildcard():
    assert render(generalise(parse_path('body.results[3].tags[0]'))) == "body.results[*].tags[*]"
    assert render(generalise(parse_path('body.results[sku="A"].price'))) == "body.results[*].price"


@pytest.mark.parametrize(("text", "problem"), [
    ("", "empty path"),
    ("body.", "no key name at character 6"),
    ("body[", "unclosed '[' at character 5"),
    ("body[3x]", "expected ']' at character 7"),
    ("body[x]", "cannot read the '['"),
    ('body["unterminated]', "bad quoted text"),
    ("body.a b", "unexpected ' ' at character 7"),
])
def test_unreadable_paths_say_what_and_where(text, problem):
    with pytest.raises(PathSyntaxError, match=problem.replace("[", r"\[")):
        parse_path(text)


def test_patterns_start_at_a_root_and_never_name_a_keyed_item():
    assert parse_pattern("**.etag") == (ANY_DEPTH, "etag")
    with pytest.raises(PathSyntaxError, match="did you mean 'body.results'"):
        parse_pattern("results")
    with pytest.raises(PathSyntaxError, match=r"use \[\*\] in patterns"):
        parse_pattern("body.results[sku=1]")


# -- matching ---------------------------------------------------------------------------------------

def matcher(*patterns):
    return PathMatcher([(parse_pattern(p), label) for p, label in patterns])


def hide_at(m, path):
    return m.infos[m.walk(parse_path(path))].hide


def test_a_star_is_one_key_and_never_a_position():
    m = matcher(("body.*.etag", IGNORE))

    assert hide_at(m, "body.product.etag") == IGNORE
    assert hide_at(m, "body[0].etag") is None
    assert hide_at(m, "body.a.b.etag") is None


def test_an_indexed_wildcard_is_any_position_or_keyed_item_and_never_a_key():
    m = matcher(("body.results[*].updated_at", IGNORE))

    assert hide_at(m, "body.results[7].updated_at") == IGNORE
    assert hide_at(m, 'body.results[sku="A"].updated_at') == IGNORE
    assert hide_at(m, "body.results.x.updated_at") is None


def test_a_literal_position_matches_that_position_only():
    m = matcher(("body.results[2].price", IGNORE))

    assert hide_at(m, "body.results[2].price") == IGNORE
    assert hide_at(m, "body.results[3].price") is None


def test_a_double_star_spans_any_number_of_segments_including_none():
    m = matcher(("body.**.etag", IGNORE))

    for path in ("body.etag", "body.a.etag", "body.a[3].b.etag", "body[0].etag"):
        assert hide_at(m, path) == IGNORE, path
    assert hide_at(m, "body.etag.x") is None
    assert hide_at(m, "headers.etag") is None


def test_ignore_wins_over_noise_and_the_first_unordered_rule_decides_the_key():
    m = matcher(("body.a", NOISE), ("body.*", IGNORE), ("body.l", Unordered("id")), ("body.*", Unordered(None)))

    assert hide_at(m, "body.a") == IGNORE
    assert m.infos[m.walk(("body", "l"))].unordered == "id"
    assert m.infos[m.walk(("body", "m"))].unordered is None


def test_paths_no_rule_can_reach_are_dead():
    m = matcher(("body.results[*].updated_at", IGNORE))

    assert m.walk(("body", "count")) == DEAD
    assert m.walk(("status",)) == DEAD
    assert m.infos[m.walk(("body", "results"))].unordered is NO_RULE
    assert matcher().start == DEAD  # no rules at all: every walk takes the fast path
