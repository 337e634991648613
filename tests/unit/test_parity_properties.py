"""router.parity properties over random JSON: what rules hide, what equal data gives, how sides mirror."""

import copy
import json

from hypothesis import assume, given
from hypothesis import strategies as st

from router.parity import DiffKind, Exchange, ParityRules, Verdict, compare
from router.parity.paths import generalise, parse_path, render

JSON = (("content-type", "application/json"),)
CHANGED_MARK = "\x00changed"

scalars = (st.none() | st.booleans() | st.integers(-(10 ** 12), 10 ** 12)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=8))
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner,
                                                                                            max_size=4), max_leaves=24)
objects = st.dictionaries(st.text(max_size=4), values, min_size=1, max_size=5)

# A small alphabet makes two independent documents share most of their shape, as real pairs do.
small_scalars = st.sampled_from([None, True, False, 0, 1, 1.5, "a", "b", "10.50", "2026-11-01T10:00:00Z"])
small_values = st.recursive(small_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(
    st.sampled_from(["a", "b", "c"]), inner, max_size=3), max_leaves=12)


def ex(value, **dumps):
    return Exchange(200, JSON, json.dumps(value, **dumps).encode())


def nodes(value, parts=("body",)):
    """(path parts, value) of every value in a document, the document itself first."""
    yield parts, value
    if isinstance(value, dict):
        for key, child in value.items():
            yield from nodes(child, parts + (key,))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            yield from nodes(child, parts + (i,))


def scalar_leaves(value):
    return [parts for parts, v in nodes(value) if not isinstance(v, (dict, list))]


def replaced(value, parts, new):
    """A copy of the document with the value at `parts` (after the root) replaced."""
    out = copy.deepcopy(value)
    target = out
    for part in parts[1:-1]:
        target = target[part]
    target[parts[-1]] = new
    return out


@st.composite
def rules_for(draw, value):
    """Any rules, their patterns drawn from the document's own paths (so they do apply) and from elsewhere."""
    paths = [render(generalise(parts)) for parts, _ in nodes(value)]
    lists = [render(generalise(parts)) for parts, v in nodes(value) if isinstance(v, list)]
    some = st.lists(st.sampled_from(paths + ["body.**.x", "body.*", "headers.etag", "status"]), max_size=3)
    unordered = draw(st.lists(st.sampled_from(lists), max_size=2)) if lists else []
    return ParityRules(
        ignore_paths=tuple(draw(some)),
        noise_paths=tuple(draw(some)),
        unordered={pattern: draw(st.none() | st.sampled_from(["id", "a"])) for pattern in unordered},
        equivalences=frozenset(draw(st.sets(st.sampled_from(["instant", "decimal", "error_body", "pagination_host"])))),
    )


@given(st.data(), objects)
def test_a_document_compared_with_itself_matches_under_any_rules(data, value):
    rules = data.draw(rules_for(value))

    for other in (ex(value), ex(value, sort_keys=True, indent=1), ex(value, separators=(",", ":"))):
        result = compare(ex(value), other, rules)

        assert result.verdict is Verdict.MATCH, result
        assert (result.differences, result.equivalences, result.ignored_paths, result.noise_hidden) == ((), (), 0, 0)


@given(st.data(), objects)
def test_shuffling_lists_declared_unordered_makes_no_difference(data, value):
    lists = [parts for parts, v in nodes(value) if isinstance(v, list) and len(v) > 1]
    assume(lists)
    chosen = data.draw(st.lists(st.sampled_from(lists), min_size=1, max_size=3, unique=True))
    shuffled = value
    for parts in sorted(chosen, key=len, reverse=True):  # inner lists first: their paths stay valid
        target = shuffled
        for part in parts[1:]:
            target = target[part]
        shuffled = replaced(shuffled, parts, data.draw(st.permutations(target)))
    rules = ParityRules(unordered={render(generalise(parts)): None for parts in chosen})

    assert compare(ex(value), ex(shuffled), rules).verdict is Verdict.MATCH


@given(st.data(), objects)
def test_ignoring_the_changed_value_hides_exactly_that_difference(data, value):
    leaves = scalar_leaves(value)
    assume(leaves)
    changed = data.draw(st.sampled_from(leaves))
    other = replaced(value, changed, CHANGED_MARK)
    legacy, extracted = ex(value), ex(other)

    plain = compare(legacy, extracted, ParityRules())
    assert [(d.path, d.kind in (DiffKind.CHANGED, DiffKind.TYPE)) for d in plain.differences] == [(render(changed), True)]

    for pattern in (render(changed), render(generalise(changed))):
        hidden = compare(legacy, extracted, ParityRules(ignore_paths=(pattern,)))
        assert hidden.verdict is Verdict.MATCH and hidden.ignored_paths == 1, pattern

    noisy = compare(legacy, extracted, ParityRules(noise_paths=(render(changed),)))
    assert noisy.verdict is Verdict.MATCH and (noisy.noise_hidden, noisy.ignored_paths) == (1, 0)


@given(st.data(), objects)
def test_ignoring_another_value_leaves_the_one_difference(data, value):
    leaves = scalar_leaves(value)
    assume(len(leaves) > 1)
    changed, ignored = data.draw(st.lists(st.sampled_from(leaves), min_size=2, max_size=2, unique=True))
    other = replaced(value, changed, CHANGED_MARK)

    result = compare(ex(value), ex(other), ParityRules(ignore_paths=(render(ignored),)))

    assert [d.path for d in result.differences] == [render(changed)]
    assert result.verdict is Verdict.MISMATCH and result.ignored_paths == 0


MIRROR = {DiffKind.MISSING: DiffKind.EXTRA, DiffKind.EXTRA: DiffKind.MISSING}


@given(small_values, small_values)
def test_swapping_the_sides_mirrors_the_result(legacy, extracted):
    forward = compare(ex(legacy), ex(extracted), ParityRules())
    backward = compare(ex(extracted), ex(legacy), ParityRules())

    def shapes(differences, mirror=False):
        return sorted((str(MIRROR.get(d.kind, d.kind) if mirror else d.kind), d.path, d.equivalence) for d in differences)

    assert backward.verdict == forward.verdict
    assert shapes(backward.differences, mirror=True) == shapes(forward.differences)
    assert shapes(backward.equivalences, mirror=True) == shapes(forward.equivalences)
    assert backward.signature() == compare(ex(extracted), ex(legacy), ParityRules()).signature()


@given(small_values, small_values)
def test_every_reported_path_reads_back_and_generalises_to_its_pattern(legacy, extracted):
    result = compare(ex(legacy), ex(extracted), ParityRules(unordered={"body.a": "a"}))

    for d in result.differences + result.equivalences:
        assert render(parse_path(d.path)) == d.path
        assert render(generalise(parse_path(d.path))) == d.pattern
        json.dumps(d.as_dict())


@given(st.lists(st.text(max_size=6) | st.integers(0, 99), max_size=5))
def test_any_keys_and_positions_make_a_path_that_reads_back(parts):
    path = ("body", *parts)

    assert parse_path(render(path)) == path
