"""Run the router: `python -m router [--host H] [--port P] [--workers N]`.

uvicorn with uvloop and httptools; its own Server and Date headers are off, so the upstream's reach the
client unchanged, and its access log is off (metrics count every request).
"""

import argparse
import logging
import os
import sys

import uvicorn

from router.config import ConfigError, identity_secret, load_config


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m router", description="Run the strangler routing proxy.")
    parser.add_argument("--host", default=os.environ.get("STRANGLER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STRANGLER_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--trust-proxy-headers", action="store_true",
                        help="Behind a load balancer: take the client address and scheme from its X-Forwarded-* headers")
    parser.add_argument("--log-level", default=os.environ.get("STRANGLER_LOG_LEVEL", "info"))
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The app factory checks these again in every worker; checked here first, a mistake is one line, not
    # a traceback per worker.
    try:
        identity_secret(load_config(os.environ.get("STRANGLER_CONFIG", "strangler.yaml")), os.environ)
    except ConfigError as exc:
        sys.exit(f"router: {exc}")
    uvicorn.run(
        "router.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
        loop="uvloop", http="httptools", lifespan="on", access_log=False, server_header=False,
        date_header=False, log_level=args.log_level, timeout_keep_alive=30,
        proxy_headers=args.trust_proxy_headers,
    )


if __name__ == "__main__":
    main()
