"""Parsing outbox rows into events, canonical values, and the verify merge: pure, no database."""

import json
from datetime import UTC, datetime, timedelta, timezone
from types import SimpleNamespace

import pytest

from extracted.inventory.sync import legacy
from extracted.inventory.sync.events import EventError, Position, parse_event
from extracted.inventory.sync.values import canonical, django_sqlite_text, sqlite_text, to_bool, to_utc
from extracted.inventory.sync.verify import _compare


def row(table="inventory_warehouse", op="U", old=None, new=None, **fields):
    data = {"id": 7, "code": "BER", "name": "Berlin", "city": "Berlin", "country": "DE", "active": 1}
    values = dict(id=11, txid=0, table_name=table, op=op, row_id=7,
                  old_data=json.dumps(old if old is not None else data) if op != "I" else None,
                  new_data=json.dumps(new if new is not None else data) if op != "D" else None,
                  created_at="2026-11-01 10:00:00.123")
    values.update(fields)
    return SimpleNamespace(**values)


@pytest.mark.parametrize("stored, expected", [
    ("2025-11-03 10:45:48", datetime(2025, 11, 3, 10, 45, 48, tzinfo=UTC)),              # Django on SQLite
    ("2025-11-03 10:45:48.5", datetime(2025, 11, 3, 10, 45, 48, 500000, tzinfo=UTC)),    # trigger's %f
    ("2025-11-03T11:45:48.000001+01:00", datetime(2025, 11, 3, 10, 45, 48, 1, tzinfo=UTC)),  # to_json on PG
    (datetime(2025, 11, 3, 12, 45, 48, tzinfo=timezone(timedelta(hours=2))), datetime(2025, 11, 3, 10, 45, 48, tzinfo=UTC)),
    (datetime(2025, 11, 3, 10, 45, 48), datetime(2025, 11, 3, 10, 45, 48, tzinfo=UTC)),  # naive: UTC
])
def test_every_datetime_form_becomes_aware_utc(stored, expected):
    value = to_utc(stored)
    assert value == expected and value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("stored, expected", [(1, True), (0, False), (True, True), (False, False), ("t", True),
                                              ("false", False), (None, None)])
def test_booleans_from_sqlite_postgresql_and_json(stored, expected):
    assert to_bool(stored) is expected


def test_to_bool_refuses_what_is_not_a_boolean():
    with pytest.raises(TypeError):
        to_bool("maybe")


def test_canonical_datetimes_compare_equal_across_forms():
    forms = ["2025-11-03 10:45:48", "2025-11-03T10:45:48+00:00", datetime(2025, 11, 3, 11, 45, 48,
                                                                           tzinfo=timezone(timedelta(hours=1)))]
    assert len({canonical(to_utc(form)) for form in forms}) == 1
    assert canonical(to_utc("2025-11-03 10:45:48.000001")) - canonical(to_utc("2025-11-03 10:45:48")) == 1


def test_sqlite_texts_are_what_sqlalchemy_and_django_write():
    moment = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    assert sqlite_text(moment) == "2025-01-02 03:04:05.000000"
    assert django_sqlite_text(moment) == "2025-01-02 03:04:05"
    assert django_sqlite_text(moment.replace(microsecond=7)) == "2025-01-02 03:04:05.000007"


def test_an_event_maps_the_monolith_table_and_normalises_its_values():
    event = parse_event(row(new={"id": 7, "code": "BER", "name": "Berlin Nord", "city": "Berlin", "country": "DE",
                                 "active": 0, "unknown_key": 1}), legacy.BY_LEGACY)
    assert event.table.service == "warehouses" and event.position == Position(0, 11)
    assert event.new["active"] is False and event.old["active"] is True
    assert "unknown_key" not in event.new
    assert event.created_at == datetime(2026, 11, 1, 10, 0, 0, 123000, tzinfo=UTC)
    with pytest.raises(TypeError):
        event.new["name"] = "changed"  # frozen
    assert event.describe() == "event 11 (update of warehouses row 7, txid 0)"


def test_extra_keys_computed_by_the_trigger_are_kept_for_the_service():
    data = {"id": 3, "product_id": 1, "warehouse_id": 1, "kind": "receive", "quantity": 4, "reason": "r",
            "created_by_id": 1, "created_at": "2026-11-01T10:00:00+00:00", "created_by_username": "admin"}
    event = parse_event(row("inventory_stockadjustment", "I", new=data), legacy.BY_LEGACY)
    assert event.old is None and event.new["created_by_username"] == "admin"


@pytest.mark.parametrize("fields, message", [
    ({"table_name": "orders_order"}, "does not know the table 'orders_order'"),
    ({"op": "X"}, "unknown op 'X'"),
    ({"new_data": "{not json"}, "new_data is not JSON"),
    ({"new_data": "[1, 2]"}, "new_data is not a JSON object"),
    ({"new_data": json.dumps({"id": 7, "code": "BER"})}, "new_data lacks name, city, country, active"),
    ({"old_data": None}, "op U does not match its data"),
    ({"created_at": "yesterday"}, "created_at 'yesterday' is not a datetime"),
])
def test_an_event_that_cannot_be_understood_is_named_in_the_error(fields, message):
    with pytest.raises(EventError) as error:
        parse_event(row(**fields), legacy.BY_LEGACY)
    assert message in str(error.value)
    assert str(error.value).startswith("outbox event 11 (")


def test_the_service_outbox_uses_the_service_table_names():
    event = parse_event(row("warehouses"), legacy.BY_SERVICE)
    assert event.table.legacy == "inventory_warehouse"
    with pytest.raises(EventError):
        parse_event(row("inventory_warehouse"), legacy.BY_SERVICE)


def _rows(*items):
    for id_, values in items:
        yield id_, hash(tuple(values)).to_bytes(8, "big", signed=True), list(values)


def test_verify_merges_by_id_and_reports_each_kind_of_drift():
    table = legacy.BY_SERVICE["categories"]
    monolith = _rows((1, [1, "a"]), (2, [2, "b"]), (3, [3, "c"]), (5, [5, "e"]))
    service = _rows((1, [1, "a"]), (3, [3, "C"]), (4, [4, "d"]), (5, [5, "e"]))
    drift = _compare(table, monolith, service, examples=5)
    assert (drift.monolith_rows, drift.service_rows) == (4, 4)
    assert drift.examples_missing_on_service == [2] and drift.examples_missing_on_monolith == [4]
    assert drift.differing == 1 and drift.examples_differing[0].id == 3
    assert drift.examples_differing[0].columns == {"slug": ("c", "C")}
    assert not drift.clean


def test_verify_counts_all_drift_but_keeps_only_the_examples_asked_for():
    table = legacy.BY_SERVICE["categories"]
    drift = _compare(table, _rows(*((i, [i, "x"]) for i in range(1, 101))), _rows(), examples=3)
    assert drift.missing_on_service == 100 and drift.examples_missing_on_service == [1, 2, 3]
