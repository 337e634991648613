"""Run the router: `python -m router [--host H] [--port P] [--workers N] [--admin-port P2]`.

uvicorn with uvloop and httptools (with a deadline for request heads, router/server.py); its own Server
and Date headers are off, so the upstream's reach the client unchanged, and its access log is off
(metrics count every request). With `--admin-port` (or STRANGLER_ADMIN_PORT) the admin API, the
dashboard and the metrics are served only on that port (on `--admin-host`, 127.0.0.1 by default), and
the public port proxies only.
"""

import argparse
import logging
import os
import sys

import uvicorn
from uvicorn.supervisors import Multiprocess

from router.admin import admin_token_from_env
from router.config import ConfigError, identity_secret, load_config
from router.server import HEADER_TIMEOUT_ENV, HeadDeadlineProtocol, listening_socket


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m router", description="Run the strangler routing proxy.")
    parser.add_argument("--host", default=os.environ.get("STRANGLER_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("STRANGLER_PORT", "8000")))
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--trust-proxy-headers", action="store_true",
                        help="Behind a load balancer: take the client address and scheme from its X-Forwarded-* headers")
    parser.add_argument("--log-level", default=os.environ.get("STRANGLER_LOG_LEVEL", "info"))
    parser.add_argument("--admin-port", type=int, default=int(os.environ.get("STRANGLER_ADMIN_PORT") or 0) or None,
                        help="Serve the admin API, dashboard and metrics only on this port")
    parser.add_argument("--admin-host", default=os.environ.get("STRANGLER_ADMIN_HOST", "127.0.0.1"))
    args = parser.parse_args()
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s")
    # The app factory checks these again in every worker; checked here first, a mistake is one line, not
    # a traceback per worker.
    try:
        config = load_config(os.environ.get("STRANGLER_CONFIG", "strangler.yaml"))
        identity_secret(config, os.environ)
        admin_token_from_env(config, os.environ)
    except ConfigError as exc:
        sys.exit(f"router: {exc}")
    # Read by every worker: the protocol's head deadline, and where the admin API lives.
    os.environ[HEADER_TIMEOUT_ENV] = str(config.router.header_read_timeout)
    if args.admin_port:
        if args.admin_port == args.port:
            sys.exit("router: --admin-port must differ from --port")
        os.environ["STRANGLER_ADMIN_PORT"] = str(args.admin_port)
    server_config = uvicorn.Config(
        "router.app:create_app", factory=True, host=args.host, port=args.port, workers=args.workers,
        loop="uvloop", http=HeadDeadlineProtocol, lifespan="on", access_log=False, server_header=False,
        date_header=False, log_level=args.log_level, timeout_keep_alive=30,
        proxy_headers=args.trust_proxy_headers,
    )
    try:
        sockets = [listening_socket(args.host, args.port)]
        if args.admin_port:
            sockets.append(listening_socket(args.admin_host, args.admin_port))
    except OSError as exc:
        sys.exit(f"router: cannot listen: {exc}")
    server = uvicorn.Server(server_config)
    if args.workers > 1:
        Multiprocess(server_config, sockets=sockets).run()
    else:
        server.run(sockets=sockets)
        if not server.started:
            sys.exit(3)


if __name__ == "__main__":
    main()
