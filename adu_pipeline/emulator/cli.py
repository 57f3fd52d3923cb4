"""`adu emulator`: run the AMC emulator in the foreground until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import logging
import re
import signal
import threading
from dataclasses import replace
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
    parser.add_argument(
        "--accept-any-refresh-token",
        action="store_true",
        help="accept any non-empty refresh token (default: only --refresh-token or issued ones)",
    )
    parser.add_argument(
        "--workflow",
        action="append",
        default=[],
        metavar="ID=SQL",
        help="a saved workflow every instance knows (audiences may name it by workflowId)",
    )
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    hostile = parser.add_argument_group("hostile behaviour (all off by default)")
    hostile.add_argument(
        "--rate-limits", action="store_true", help="per-route token buckets: 429 + Retry-After"
    )
    for flag, text in (
        ("--fault-share", "share of API requests answered 429/500/502/503/504 (not processed)"),
        ("--fault-after-commit-share", "share of writes answered 500/504 after they committed"),
        ("--upload-failure-share", "share of uploads that end FAILED"),
        ("--audience-failure-share", "share of audiences that end FAILED"),
    ):
        hostile.add_argument(flag, type=float, default=0.0, metavar="0..1", help=text)
    hostile.add_argument(
        "--latency-seconds", type=float, default=0.0, help="seconds added to every API request"
    )
    hostile.add_argument(
        "--latency-jitter-seconds", type=float, default=0.0, help="up to this much more, at random"
    )
    hostile.add_argument(
        "--require-instance-tag",
        action="store_true",
        help="uploads need the instanceId tag on the bucket or object",
    )
    hostile.add_argument(
        "--require-bucket-policy",
        action="store_true",
        help="uploads need a bucket policy letting dataUploadAwsAccountId read",
    )
    hostile.add_argument("--seed", type=int, default=None, help="seed for the hostile dice")
    parser.set_defaults(func=run)


FIELD_NAME = re.compile(r"\b([a-z]+(?:_[a-z]+)+)\b")  # fault_share -> --fault-share


def config_from_args(args: argparse.Namespace):
    """EmulatorConfig for the flags; a bad value is one InputError line."""
    from adu_pipeline.emulator.config import Credentials, EmulatorConfig, Hostile

    workflows = []
    for item in args.workflow:
        workflow_id, sep, sql = item.partition("=")
        if not sep or not workflow_id.strip() or not sql.strip():
            raise InputError("--workflow must be ID=SQL")
        workflows.append((workflow_id.strip(), sql))
    try:
        hostile = Hostile(
            rate_limits=args.rate_limits,
            fault_share=args.fault_share,
            fault_after_commit_share=args.fault_after_commit_share,
            latency_seconds=args.latency_seconds,
            latency_jitter_seconds=args.latency_jitter_seconds,
            upload_failure_share=args.upload_failure_share,
            audience_failure_share=args.audience_failure_share,
            require_instance_tag=args.require_instance_tag,
            require_bucket_policy=args.require_bucket_policy,
            seed=args.seed,
        )
    except ValueError as exc:
        message = FIELD_NAME.sub(lambda m: "--" + m[1].replace("_", "-"), str(exc))
        raise InputError(message) from None
    default = EmulatorConfig()
    accounts = tuple(
        replace(a, instances=tuple(replace(i, workflows=tuple(workflows)) for i in a.instances))
        for a in default.accounts
    )
    credentials = Credentials(
        client_id=args.client_id,
        client_secret=args.client_secret,
        refresh_token=args.refresh_token,
        accept_any_refresh_token=args.accept_any_refresh_token,
    )
    return EmulatorConfig(credentials=credentials, accounts=accounts, hostile=hostile)


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
        config=config_from_args(args),
        step_seconds=args.step_seconds,
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
