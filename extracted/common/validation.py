"""Request bodies validated as the monolith's DRF serializers validate them: the same rules, messages and
field order, so a bad write gets the same 400 from either side.

A service declares its input as a `Serializer` of fields (in the monolith serializer's order) and calls
``validate(data, context=..., partial=...)``: the validated values by field name, or the 400
``{"field": ["message", ...]}``. Lookups that need the database (`SlugRelatedField`, `unique`
validators) are callables given the `context` (e.g. the session) and the value.

What is copied from DRF 3.18, field by field:

- every field: missing -> "This field is required." (skipped when not required or partial),
  null -> "This field may not be null.";
- `CharField`: trims whitespace; blank -> "This field may not be blank."; dicts, lists and booleans ->
  "Not a valid string."; numbers become text; max length; no NUL or lone surrogates;
- `IntegerField`: "5", 5, 5.0, "5.000" are 5; else "A valid integer is required."; bounds;
- `ChoiceField`: ``"<input>" is not a valid choice.``;
- `BooleanField`: DRF's true/false spellings, else "Must be a valid boolean."; a missing boolean in an
  HTML form is False (browsers send nothing for an unticked box);
- `SlugRelatedField`: "" is null; ``Object with <slug>=<value> does not exist.``
"""

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from extracted.common.errors import NON_FIELD_ERRORS, validation_error
from extracted.common.parsers import FormData

REQUIRED = "This field is required."
NULL = "This field may not be null."
BLANK = "This field may not be blank."
NULL_CHARACTERS = "Null characters are not allowed."


class _Empty:
    """DRF's `empty`: the field was not given at all."""

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY: Any = _Empty()


class FieldError(Exception):
    def __init__(self, *messages: str):
        self.messages = list(messages)


class _Skip(Exception):
    """The field takes no part in the validated data (not given, not required, or a partial update)."""


Validator = Callable[[Any, Any], str | None]  # (value, context) -> message or None


class Field:
    """A writable serializer field; subclasses implement `to_internal`."""

    default_empty_html: Any = EMPTY

    def __init__(self, name: str, *, required: bool = True, allow_null: bool = False,
                 validators: Sequence[Validator] = ()):
        self.name, self.required, self.allow_null = name, required, allow_null
        self.validators = list(validators)

    def value_from(self, data: Mapping, partial: bool) -> Any:
        if isinstance(data, FormData):
            if self.name not in data:
                return EMPTY if partial else self.default_empty_html
            value = data[self.name]
            if value == "" and self.allow_null:
                return "" if getattr(self, "allow_blank", False) else None
            if value == "" and not self.required:
                return "" if getattr(self, "allow_blank", False) else EMPTY
            return value
        return data.get(self.name, EMPTY)

    def run(self, value: Any, context: Any, partial: bool) -> Any:
        if value is EMPTY:
            if partial or not self.required:
                raise _Skip
            raise FieldError(REQUIRED)
        if value is None:
            if not self.allow_null:
                raise FieldError(NULL)
            return None
        internal = self.to_internal(value, context)
        messages = [m for m in (v(internal, context) for v in self.all_validators()) if m]
        if messages:
            raise FieldError(*messages)
        return internal

    def to_internal(self, value: Any, context: Any) -> Any:
        raise NotImplementedError

    def all_validators(self) -> list[Validator]:
        return self.validators


class CharField(Field):
    def __init__(self, name: str, *, max_length: int | None = None, allow_blank: bool = False, **options):
        super().__init__(name, **options)
        self.max_length, self.allow_blank = max_length, allow_blank

    def run(self, value, context, partial):
        # DRF tests for blank before anything else, so "  " is "blank" and None is "null".
        if value is not EMPTY and (value == "" or (value is not None and _drf_str(value).strip() == "")):
            if not self.allow_blank:
                raise FieldError(BLANK)
            return ""
        return super().run(value, context, partial)

    def to_internal(self, value, context):
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            raise FieldError("Not a valid string.")
        return _drf_str(value).strip()

    def all_validators(self):
        checks = list(self.validators)
        if self.max_length is not None:
            limit = self.max_length
            checks.append(lambda v, c: None if len(v) <= limit
                          else f"Ensure this field has no more than {limit} characters.")
        checks.append(lambda v, c: NULL_CHARACTERS if "\x00" in v else None)
        checks.append(_no_surrogates)
        return checks


def _drf_str(value: Any) -> str:
    return str(value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _no_surrogates(value: str, context: Any) -> str | None:
    match = _SURROGATE.search(value)
    return f"Surrogate characters are not allowed: U+{ord(match[0]):X}." if match else None


class IntegerField(Field):
    MAX_STRING_LENGTH = 1000
    _DECIMAL = re.compile(r"\.0*\s*$")

    def __init__(self, name: str, *, min_value: int | None = None, max_value: int | None = None, **options):
        super().__init__(name, **options)
        self.min_value, self.max_value = min_value, max_value

    def to_internal(self, value, context):
        if isinstance(value, str) and len(value) > self.MAX_STRING_LENGTH:
            raise FieldError("String value too large.")
        try:
            return int(self._DECIMAL.sub("", str(value)))
        except (ValueError, TypeError):
            raise FieldError("A valid integer is required.") from None

    def all_validators(self):
        checks = list(self.validators)
        if self.max_value is not None:
            high = self.max_value
            checks.append(lambda v, c: None if v <= high else f"Ensure this value is less than or equal to {high}.")
        if self.min_value is not None:
            low = self.min_value
            checks.append(lambda v, c: None if v >= low else f"Ensure this value is greater than or equal to {low}.")
        return checks


class ChoiceField(Field):
    def __init__(self, name: str, *, choices: Sequence[str], **options):
        super().__init__(name, **options)
        self.choices = {str(choice): choice for choice in choices}

    def to_internal(self, value, context):
        try:
            return self.choices[str(value)]
        except KeyError:
            raise FieldError(f'"{value}" is not a valid choice.') from None


class BooleanField(Field):
    default_empty_html = False
    TRUE_VALUES = {"t", "T", "y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON", "1", 1, True}
    FALSE_VALUES = {"f", "F", "n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF", "0", 0, 0.0,
                    False}

    def to_internal(self, value, context):
        try:
            if value in self.TRUE_VALUES:
                return True
            if value in self.FALSE_VALUES:
                return False
        except TypeError:  # unhashable: a list or an object
            pass
        raise FieldError("Must be a valid boolean.")


class SlugRelatedField(Field):
    """A related row named by one of its columns; `lookup(context, text)` returns it or None."""

    def __init__(self, name: str, *, slug_field: str, lookup: Callable[[Any, str], Any], **options):
        super().__init__(name, **options)
        self.slug_field, self.lookup = slug_field, lookup

    def run(self, value, context, partial):
        return super().run(None if value == "" else value, context, partial)

    def to_internal(self, value, context):
        text = _slug_text(value)
        row = self.lookup(context, text)
        if row is None:
            raise FieldError(f"Object with {self.slug_field}={text} does not exist.")
        return row


def _slug_text(value: Any) -> str:
    # Django's CharField.get_prep_value: str() of anything that is not already text.
    return value if isinstance(value, str) else str(value)


class Serializer:
    """The writable fields of one input, in the monolith serializer's order."""

    def __init__(self, *fields: Field):
        self.fields = fields

    def validate(self, data: Any, *, context: Any = None, partial: bool = False) -> dict[str, Any]:
        """The validated values by field name (fields not given are absent), or DRF's 400."""
        if data is None:
            raise validation_error({NON_FIELD_ERRORS: ["No data provided"]})
        if not isinstance(data, Mapping):
            raise validation_error({NON_FIELD_ERRORS: [
                f"Invalid data. Expected a dictionary, but got {type(data).__name__}."]})
        values: dict[str, Any] = {}
        errors: dict[str, list[str]] = {}
        for field in self.fields:
            try:
                values[field.name] = field.run(field.value_from(data, partial), context, partial)
            except _Skip:
                continue
            except FieldError as exc:
                errors[field.name] = exc.messages
        if errors:
            raise validation_error(errors)
        return values
