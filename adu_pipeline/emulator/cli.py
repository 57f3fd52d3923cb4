"""`adu emulator`: run the AMC emulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import signal
import threading
from pathlib import Path

from adu_pipeline.errors import InputError


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "emulator",
        help="run the local AMC emulator (token, ADU datasets/uploads, audiences)",
        description="Serve a local Amazon Marketing Cloud emulator until Ctrl-C or SIGTERM.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one")
    parser.add_argument(
        "--state-dir",
        type=Path,
        default=Path("data/.local/amc-emulator"),
        help="folder for the SQLite state (kept across restarts)",
    )
    parser.add_argument(
        "--s3-endpoint-url", default=None, help="S3 endpoint uploads read from (e.g. moto's server)"
    )
    parser.add_argument("--client-id", default=None, help="accepted LwA client id (default: any)")
    parser.add_argument(
        "--client-secret", default=None, help="accepted client secret (default: any)"
    )
    parser.add_argument(
        "--refresh-token", default=None, help="accepted refresh token (default: any non-empty)"
    )
    parser.add_argument(
        "--step-seconds",
        type=float,
        default=1.0,
        help="seconds between job state changes (default 1.0)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from adu_pipeline.emulator.server import EmulatorServer

    if args.step_seconds < 0:
        raise InputError("--step-seconds must be zero or more")
    if not 0 <= args.port <= 65535:
        raise InputError("--port must be between 0 and 65535")
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    server = EmulatorServer(
        args.host,
        args.port,
        args.state_dir,
        args.s3_endpoint_url,
        step_seconds=args.step_seconds,
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
    )
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server.start()
    except OSError as exc:
        raise InputError(f"cannot listen on {args.host}:{args.port}: {exc.strerror}") from None
    print(f"AMC emulator ready on {server.url} (state: {args.state_dir})", flush=True)
    try:
        stop.wait()
    finally:
        server.stop()
    print("AMC emulator stopped", flush=True)
    return 0
