"""Query-string filters parsed the way the monolith's django-filter FilterSets and DRF's SearchFilter and
OrderingFilter parse them, into plain values a selector applies.

A service declares a `FilterSet` per endpoint, in the monolith's field order (errors are reported in
that order), and calls ``parse(params)``: it returns ``{name: value}`` for the filters that apply, or
raises the 400 DRF answers (``{"min_available": ["Enter a number."]}``). What each kind accepts:

- `CharFilter` (forms.CharField): stripped; empty means "no filter"; NUL is refused.
- `NullBooleanFilter` (django_filters.BooleanFilter): True/"True"/"true"/"2", False/"False"/"false"/"3";
  anything else means "no filter" (Django's NullBooleanSelect).
- `DRFBooleanFilter` (django_filters.rest_framework.BooleanFilter, what ``filterset_fields`` makes
  of a model BooleanField): "true"/"false"/"1"/"0" in any case; anything else means "no filter".
- `NumberFilter` (forms.DecimalField + django-filter's 1e50 cap): a `Decimal`.
- `ChoiceFilter`: one of the choices, exactly; anything else is an error.
- `IsoDateTimeFilter`: Django's ``parse_datetime``; naive values are UTC (TIME_ZONE).

`search_terms` and `ordering` copy DRF's SearchFilter and OrderingFilter.
"""

import datetime
import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, DecimalException
from typing import Any

from extracted.common.errors import FieldErrors, validation_error
from extracted.common.query import QueryParams

NULL_CHARACTERS = "Null characters are not allowed."
ENTER_A_NUMBER = "Enter a number."
NUMBER_CAP = 1e50  # django_filters.NumberFilter.get_max_validator
SEARCH_PARAM = "search"
ORDERING_PARAM = "ordering"


class Filter:
    """One query parameter; `clean` returns the value to filter by, or None for "no filter"."""

    name: str

    def clean(self, raw: str | None, errors: FieldErrors) -> Any:
        raise NotImplementedError


@dataclass(frozen=True)
class CharFilter(Filter):
    name: str

    def clean(self, raw, errors):
        if raw is None:
            return None
        value = raw.strip()
        if not value:
            return None
        if "\x00" in value:
            errors.add(self.name, NULL_CHARACTERS)
            return None
        return value


_NULL_BOOLEAN_SELECT = {"True": True, "true": True, "2": True, "False": False, "false": False, "3": False}
_DRF_BOOLEAN_WIDGET = {"1": True, "true": True, "0": False, "false": False}


@dataclass(frozen=True)
class NullBooleanFilter(Filter):
    name: str

    def clean(self, raw, errors):
        return _NULL_BOOLEAN_SELECT.get(raw) if raw is not None else None


@dataclass(frozen=True)
class DRFBooleanFilter(Filter):
    name: str

    def clean(self, raw, errors):
        return _DRF_BOOLEAN_WIDGET.get(raw.lower()) if raw is not None else None


@dataclass(frozen=True)
class NumberFilter(Filter):
    name: str

    def clean(self, raw, errors):
        if raw is None or raw == "":
            return None
        try:
            value = Decimal(str(raw))
        except DecimalException:
            errors.add(self.name, ENTER_A_NUMBER)
            return None
        if not value.is_finite():
            errors.add(self.name, ENTER_A_NUMBER)
            return None
        if value > NUMBER_CAP:
            errors.add(self.name, f"Ensure this value is less than or equal to {NUMBER_CAP}.")
            return None
        return value


@dataclass(frozen=True)
class ChoiceFilter(Filter):
    name: str
    choices: tuple[str, ...]

    def clean(self, raw, errors):
        if raw is None or raw == "":
            return None
        if raw not in self.choices:
            errors.add(self.name, f"Select a valid choice. {raw} is not one of the available choices.")
            return None
        return raw


@dataclass(frozen=True)
class IsoDateTimeFilter(Filter):
    name: str

    def clean(self, raw, errors):
        if raw is None or raw == "":
            return None
        try:
            value = parse_datetime(raw.strip())
        except ValueError:
            value = None
        if value is None:
            errors.add(self.name, "Enter a valid date/time.")
            return None
        return value if value.tzinfo is not None else value.replace(tzinfo=datetime.UTC)


class FilterSet:
    """The filters of one endpoint, in the monolith's declaration order."""

    def __init__(self, *filters: Filter):
        self.filters = filters

    def parse(self, params: QueryParams) -> dict[str, Any]:
        """``{name: value}`` for every filter that applies; the 400 django-filter gives otherwise."""
        errors = FieldErrors()
        values = {}
        for filter_ in self.filters:
            value = filter_.clean(params.get(filter_.name), errors)
            if value is not None:
                values[filter_.name] = value
        errors.raise_if_any()
        return values


# -- DRF's SearchFilter -----------------------------------------------------------------------------------
# django.utils.text.smart_split: whitespace-separated, quoted phrases kept whole.
_SMART_SPLIT = re.compile(r"""
    ((?:
        [^\s'"]*
        (?:
            (?:"(?:[^"\\]|\\.)*" | '(?:[^'\\]|\\.)*')
            [^\s'"]*
        )+
    ) | \S+)
""", re.VERBOSE)


def search_terms(params: QueryParams) -> list[str]:
    """The terms of ``?search=``, as rest_framework.filters.search_smart_split makes them; every term
    must match one of the endpoint's search fields (case-insensitive "contains")."""
    value = params.get(SEARCH_PARAM, "") or ""
    if "\x00" in value:
        raise validation_error([NULL_CHARACTERS])
    terms = []
    for match in _SMART_SPLIT.finditer(value):
        term = match[0].strip(",")
        if term.startswith(('"', "'")) and term[0] == term[-1]:
            terms.append(_unescape_string_literal(term))
        else:
            terms.extend(sub.strip() for sub in term.split(",") if sub)
    return terms


def _unescape_string_literal(s: str) -> str:
    quote = s[0]
    return s[1:-1].replace(rf"\{quote}", quote).replace(r"\\", "\\")


# -- DRF's OrderingFilter -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class OrderTerm:
    field: str  # a public ordering name (after aliases: the endpoint maps it to a column)
    descending: bool


def ordering(params: QueryParams, valid: Sequence[str], default: Sequence[str]) -> list[OrderTerm]:
    """``?ordering=a,-b``: the valid terms in the order given; the endpoint's default when none is valid.

    Invalid names are dropped silently, as DRF does; only one leading "-" is allowed."""
    raw = params.get(ORDERING_PARAM)
    terms = []
    if raw:
        for term in (part.strip() for part in raw.split(",")):
            name = term[1:] if term.startswith("-") else term
            if name in valid:
                terms.append(term)
    if not terms:
        terms = list(default)
    return [OrderTerm(term.lstrip("-"), term.startswith("-")) for term in terms]


# -- django.utils.dateparse.parse_datetime, copied: the service does not import Django ---------------------
_DATETIME_RE = re.compile(
    r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})"
    r"[T ](?P<hour>\d{1,2}):(?P<minute>\d{1,2})"
    r"(?::(?P<second>\d{1,2})(?:[.,](?P<microsecond>\d{1,6})\d{0,6})?)?"
    r"\s*(?P<tzinfo>Z|[+-]\d{2}(?::?\d{2})?)?$"
)


def parse_datetime(value: str) -> datetime.datetime | None:
    """A datetime from ISO 8601-ish text, None when the text is not one, ValueError when it is one with
    impossible fields (Django's own contract)."""
    try:
        return datetime.datetime.fromisoformat(value)
    except ValueError:
        if match := _DATETIME_RE.match(value):
            kw: dict[str, Any] = match.groupdict()
            kw["microsecond"] = kw["microsecond"] and kw["microsecond"].ljust(6, "0")
            tzinfo = kw.pop("tzinfo")
            if tzinfo == "Z":
                tzinfo = datetime.UTC
            elif tzinfo is not None:
                offset_mins = int(tzinfo[-2:]) if len(tzinfo) > 3 else 0
                offset = 60 * int(tzinfo[1:3]) + offset_mins
                if tzinfo[0] == "-":
                    offset = -offset
                tzinfo = datetime.timezone(datetime.timedelta(minutes=offset))
            kw = {k: int(v) for k, v in kw.items() if v is not None}
            return datetime.datetime(**kw, tzinfo=tzinfo)
    return None
