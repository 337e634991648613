"""The parity recorder's store warnings say why a write failed without the store's password."""

from router.metrics import RouterMetrics
from router.recorder import ParityRecorder

LEAK = 'invalid URI: "postgresql://app:s3cret-pw@[db/strangler"'


class DownStore:
    def write(self, *args):
        raise ValueError(LEAK)


def test_a_failed_store_write_is_logged_without_the_password(caplog):
    metrics = RouterMetrics()
    metrics.traffic.observe("r", "legacy", 200, 0.01)
    recorder = ParityRecorder(DownStore(), metrics, traffic_store=DownStore())
    recorder.learn_noise("r", ["a"])

    assert recorder.flush() == 0
    recorder.flush_traffic()

    warnings = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert len(warnings) == 2
    assert all("s3cret-pw" not in w and "postgresql://app:***@[db/strangler" in w for w in warnings)
