"""Re-record the example corpus tests/parity/corpus/inventory-reads.json from a real monolith.

    .venv/bin/python -m tests.parity.make_corpus [--keep FLOW_FILE]

Starts a seeded monolith (tests.support.monolith_process), puts `strangler parity record` in front of
it, sends inventory reads through the recording proxy as staff, as a customer and anonymously, stops
the recorder as Ctrl-C would (SIGINT), and exports the capture with the two tokens mapped to roles.
Needs mitmproxy's virtualenv (`make mitm-venv`). Not a test: run it when the corpus should change.
"""

import argparse
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from tests.support import processes
from tests.support.monolith_process import start_monolith

CORPUS_DIR = Path(__file__).parent / "corpus"
NAME = "inventory-reads"


def requests_to_send(staff: str, customer: str) -> list[tuple[str, str | None]]:
    """(target, token or None) in the order they are sent."""
    return [
        ("/api/inventory/stock/", staff),
        ("/api/inventory/stock/?warehouse=BER", staff),
        ("/api/inventory/stock/?low_stock=true&ordering=-available", staff),
        ("/api/inventory/stock/?page=2", staff),
        ("/api/inventory/stock/?search=TG-MCU", staff),
        ("/api/inventory/stock/{sku}/", staff),
        ("/api/inventory/stock/NO-SUCH-SKU/", staff),
        ("/api/inventory/warehouses/", staff),
        ("/api/inventory/stock/", customer),
        ("/api/inventory/stock/{sku}/", customer),
        ("/api/inventory/stock/", None),
        ("/api/inventory/warehouses/", None),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="Also keep the recorded flow file here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        monolith = start_monolith(work / "var")
        try:
            flow = work / f"{NAME}.flow"
            port = processes.free_port()
            recorder = subprocess.Popen(
                [str(processes.BIN / "strangler"), "parity", "record", "--upstream", monolith.url,
                 "--listen-port", str(port), "--out", str(flow), "--quiet"], cwd=processes.ROOT)
            _wait_for_port(port, recorder)
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
                first = client.get("/api/inventory/stock/", headers={"Accept": "application/json",
                                                                     "Authorization": f"Token {monolith.staff_token}"})
                sku = first.json()["results"][0]["sku"]
                for target, token in requests_to_send(monolith.staff_token, monolith.customer_token):
                    headers = {"Accept": "application/json"} | ({"Authorization": f"Token {token}"} if token else {})
                    response = client.get(target.format(sku=sku), headers=headers)
                    print(f"{response.status_code} {target.format(sku=sku)}", file=sys.stderr)
            recorder.send_signal(signal.SIGINT)  # as Ctrl-C: the recorder stops mitmdump and counts the flows
            if recorder.wait(30) != 0:
                return 1
            if args.keep:
                shutil.copy(flow, args.keep)
            return subprocess.run(
                [str(processes.BIN / "strangler"), "parity", "export", str(flow), "--to", str(CORPUS_DIR), "--name", NAME,
                 "--role-token", f"staff={monolith.staff_token}", "--role-token", f"customer={monolith.customer_token}"],
                cwd=processes.ROOT).returncode
        finally:
            monolith.process.stop()


def _wait_for_port(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"strangler parity record exited with {process.returncode}")
        try:  # a bare connection: an HTTP probe would be recorded
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"the recorder did not listen on port {port} within {timeout} s")


if __name__ == "__main__":
    sys.exit(main())
