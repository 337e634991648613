"""The write-path fault seam is a test setting only, and counts committed writes before it fires."""

import pytest
from pydantic import ValidationError

from extracted.common.faults import CrashAfterWrites
from extracted.inventory.settings import InventorySettings


@pytest.mark.parametrize("environment", ["development", "production"])
def test_crash_injection_is_refused_outside_the_test_environment(monkeypatch, environment):
    monkeypatch.setenv("STRANGLER_SHADOW_SECRET", "s" * 32)
    monkeypatch.setenv("STRANGLER_IDENTITY_SECRET", "i" * 32)
    with pytest.raises(ValidationError, match="INVENTORY_FAULT_CRASH_AFTER_WRITES is a test setting"):
        InventorySettings(environment=environment, fault_crash_after_writes=3)


def test_crash_injection_is_off_by_default_and_allowed_in_tests():
    assert InventorySettings(environment="test").fault_crash_after_writes == 0
    assert InventorySettings(environment="test", fault_crash_after_writes=2).fault_crash_after_writes == 2


def test_the_process_exits_only_at_the_chosen_write(monkeypatch):
    exits = []
    monkeypatch.setattr("extracted.common.faults.os._exit", exits.append)
    fault = CrashAfterWrites(3)
    fault.committed()
    fault.committed()
    assert exits == []
    fault.committed()
    assert len(exits) == 1
