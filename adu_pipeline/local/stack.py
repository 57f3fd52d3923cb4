"""The offline stack: moto's S3 server and the AMC emulator, both real HTTP servers on loopback.

`adu local up` runs both until Ctrl-C / SIGTERM and prints the environment Dagster needs;
`adu local reset` deletes the emulator's state (data/.local/); moto keeps objects in memory only.
The emulator accepts exactly the stack's Login with Amazon credentials, and `env()` hands them to
the processes the stack's users start as ADU_AMC_* variables: Dagster reads them through
`dg.EnvVar`, so no value reaches run config or DAGSTER_HOME. Like the libraries it starts, this
module does not import Dagster.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import shlex
import shutil
import signal
import socket
import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import boto3

from adu_pipeline.errors import AduError, InputError
from adu_pipeline.settings import (
    LOCAL_AWS_KEYS,
    LOCAL_BUCKET,
    LOCAL_HOST,
    LOCAL_REGION,
    load_settings,
)
from adu_pipeline.staging.s3 import ensure_bucket

LOCAL_DIR = "data/.local"
HOST = LOCAL_HOST
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
# The local emulator's fixed credentials: public, they open nothing but a loopback emulator.
LOCAL_AMC_CREDENTIALS = {
    "ADU_AMC_CLIENT_ID": "amzn1.application-oa2-client.local",
    "ADU_AMC_CLIENT_SECRET": "local-secret",
    "ADU_AMC_REFRESH_TOKEN": "Atzr|local-refresh-token",
}


def local_ports(environ: Mapping[str, str] | None = None) -> tuple[int, int]:
    """(S3, AMC) ports of `adu local up` / `adu dev`: ADU_LOCAL_S3_PORT / ADU_LOCAL_AMC_PORT."""
    settings = load_settings(environ)
    return settings.local_s3_port, settings.local_amc_port


def local_dir() -> Path:
    return load_settings().resolve(LOCAL_DIR)


def instances_for_emulator(instances: Any) -> list[dict[str, Any]]:
    """Plain descriptions of the instances the emulator serves (from data/instances.yaml)."""
    return [
        {
            "instance_id": i.instance_id,
            "account_id": i.account_id,
            "marketplace_id": i.marketplace_id,
            "dsp_advertisers": list(i.dsp_advertisers),
            "region": i.region,
            "description": i.description or "",
        }
        for i in instances
    ]


def project_instances() -> list[dict[str, Any]]:
    from adu_pipeline.dataset import load_instances

    return instances_for_emulator(load_instances(load_settings().instances_path))


def _require_free_port(port: int, what: str, setting: str) -> None:
    if port == 0:
        return  # the OS picks a free one
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as werkzeug binds
            probe.bind((HOST, port))
    except OSError as exc:
        raise AduError(
            f"cannot start {what} on {HOST}:{port} ({exc.strerror}); is `adu dev` or "
            f"`adu local up` already running? Otherwise set {setting}"
        ) from None


class LocalStack:
    """moto S3 + AMC emulator in this process (threads). Port 0 picks free ports."""

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        s3_port: int = 0,
        amc_port: int = 0,
        bucket: str = LOCAL_BUCKET,
        step_seconds: float | None = None,
        instances: list[dict[str, Any]] | None = None,
        credentials: Mapping[str, str] | None = None,
    ) -> None:
        """`instances`: what the emulator serves (default: data/instances.yaml); `credentials`:
        the ADU_AMC_CLIENT_ID / _CLIENT_SECRET / _REFRESH_TOKEN it accepts (default: the local
        ones)."""
        self.instances = project_instances() if instances is None else instances
        self.credentials = dict(LOCAL_AMC_CREDENTIALS if credentials is None else credentials)
        if sorted(self.credentials) != sorted(LOCAL_AMC_CREDENTIALS):
            raise InputError(f"local stack credentials must be {', '.join(LOCAL_AMC_CREDENTIALS)}")
        self.state_dir = Path(state_dir) if state_dir else local_dir() / "emulator"
        self.s3_port = s3_port
        self.amc_port = amc_port
        self.bucket = bucket
        self.step_seconds = step_seconds
        self._moto: Any = None
        self.emulator: Any = None
        self.s3_endpoint_url = ""

    def start(self) -> LocalStack:
        from moto.server import ThreadedMotoServer

        from adu_pipeline.emulator.config import Credentials, EmulatorConfig
        from adu_pipeline.emulator.server import EmulatorServer

        for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing")):
            os.environ.setdefault(name, value)  # moto signs nothing, but boto3 wants keys
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no per-request lines
        # moto binds inside its thread and, when the port is taken, waits forever for a server
        # that never comes up: check the port here so a busy one is a clear error instead.
        _require_free_port(self.s3_port, "S3", "ADU_LOCAL_S3_PORT or --s3-port")
        self._moto = ThreadedMotoServer(ip_address=HOST, port=self.s3_port, verbose=False)
        self._moto.start()
        host, port = self._moto.get_host_and_port()
        self.s3_port = port
        self.s3_endpoint_url = f"http://{host}:{port}"
        ensure_bucket(self.s3_client(), self.bucket)
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self.emulator = EmulatorServer(
            HOST,
            self.amc_port,
            self.state_dir,
            self.s3_endpoint_url,
            config=EmulatorConfig.from_instances(
                self.instances,
                credentials=Credentials(
                    client_id=self.credentials["ADU_AMC_CLIENT_ID"],
                    client_secret=self.credentials["ADU_AMC_CLIENT_SECRET"],
                    refresh_token=self.credentials["ADU_AMC_REFRESH_TOKEN"],
                ),
            ),
            step_seconds=self.step_seconds,
        )
        try:
            self.emulator.start()
        except AduError:  # another emulator holds the state folder
            self._moto.stop()
            raise
        except OSError as exc:
            self._moto.stop()
            raise AduError(
                f"cannot start the AMC emulator on {HOST}:{self.amc_port} ({exc.strerror}): "
                "set ADU_LOCAL_AMC_PORT or --amc-port"
            ) from None
        self.amc_port = self.emulator.port
        return self

    @property
    def amc_url(self) -> str:
        return self.emulator.url

    def s3_client(self) -> Any:
        return boto3.client(
            "s3", endpoint_url=self.s3_endpoint_url, region_name=LOCAL_REGION, **LOCAL_AWS_KEYS
        )

    def env(self) -> dict[str, str]:
        """What a Dagster process needs to use this stack (adu_pipeline.settings reads the
        settings; the `amc` resource reads the credentials through dg.EnvVar at run time)."""
        return {
            "ADU_ENV": "local",
            "ADU_LOCAL_S3_PORT": str(self.s3_port),
            "ADU_LOCAL_AMC_PORT": str(self.amc_port),
            "ADU_S3_BUCKET": self.bucket,
            **self.credentials,
        }

    def stop(self) -> None:
        if self.emulator is not None:
            self.emulator.stop()
            self.emulator = None
        if self._moto is not None:
            self._moto.stop()
            self._moto = None

    def __enter__(self) -> LocalStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextlib.contextmanager
def stop_requested() -> Iterator[threading.Event]:
    """An event set by Ctrl-C or SIGTERM, listened for from the moment the block starts.

    Both are handled explicitly: a shell starts background jobs with SIGINT ignored."""
    stop = threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in STOP_SIGNALS}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def describe(stack: LocalStack) -> str:
    """What `adu local up` / `adu dev` print; a credential is shown only if it is the public
    local one (a stack started on other credentials prints their names, never their values)."""
    exports = " ".join(
        f"{k}={shlex.quote(v)}"
        for k, v in stack.env().items()
        if k not in LOCAL_AMC_CREDENTIALS or v == LOCAL_AMC_CREDENTIALS[k]
    )
    hidden = [k for k, v in stack.credentials.items() if v != LOCAL_AMC_CREDENTIALS[k]]
    return "\n".join(
        [
            f"S3 (moto, in memory):  {stack.s3_endpoint_url}  bucket {stack.bucket}",
            f"AMC emulator:          {stack.amc_url}  state {stack.state_dir}",
            "environment for Dagster (ADU_ENV=local reads these):",
            f"  export {exports}",
            *([f"  and {', '.join(hidden)} as the stack was given them"] if hidden else []),
        ]
    )


def _up(args: argparse.Namespace) -> int:
    default_s3, default_amc = local_ports()
    stack = LocalStack(
        args.state_dir,
        s3_port=default_s3 if args.s3_port is None else args.s3_port,
        amc_port=default_amc if args.amc_port is None else args.amc_port,
        bucket=args.bucket,
        step_seconds=args.step_seconds,
    )
    with stop_requested() as stop:  # before "Ctrl-C to stop" is printed, not after
        stack.start()
        try:
            print(describe(stack))
            print("local stack running; Ctrl-C to stop", flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            stack.stop()
            print("local stack stopped", flush=True)
    return 0


def reset_local_state(folder: Path | None = None) -> bool:
    """Delete the emulator state; refused while an emulator serves from it."""
    from adu_pipeline.emulator.state_lock import LOCK_NAME, StateLock

    folder = folder or local_dir()
    if not folder.exists():
        return False
    held = []
    try:
        for lock_file in folder.rglob(LOCK_NAME):
            held.append(StateLock(lock_file.parent))
            held[-1].acquire()
        shutil.rmtree(folder)  # with the locks held, no emulator can start on it meanwhile
    except InputError:
        raise AduError(
            f"an AMC emulator is running on {folder} (adu dev or adu local up): stop it first"
        ) from None
    finally:
        for lock in held:
            lock.release()
    return True


def _reset(args: argparse.Namespace) -> int:
    folder = Path(args.state_root) if args.state_root else local_dir()
    removed = reset_local_state(folder)
    print(f"removed {folder}" if removed else f"nothing to remove at {folder}")
    print("moto keeps S3 objects in memory: they are gone once `adu local up` stops")
    return 0


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser("local", help="run or reset the offline S3 + AMC stack")
    commands = parser.add_subparsers(dest="local_command", required=True, metavar="COMMAND")
    up = commands.add_parser("up", help="start moto S3 and the AMC emulator on loopback")
    up.add_argument("--s3-port", type=int, help="default ADU_LOCAL_S3_PORT or 9573")
    up.add_argument("--amc-port", type=int, help="default ADU_LOCAL_AMC_PORT or 9574")
    up.add_argument("--state-dir", help=f"emulator state (default {LOCAL_DIR}/emulator)")
    up.add_argument("--bucket", default=os.environ.get("ADU_S3_BUCKET") or LOCAL_BUCKET)
    up.add_argument(
        "--step-seconds", type=float, default=None, help="emulator job step (default 1 s)"
    )
    up.set_defaults(func=_up)
    reset = commands.add_parser("reset", help=f"delete {LOCAL_DIR} (emulator state)")
    reset.add_argument("--state-root", help=f"folder to delete (default {LOCAL_DIR})")
    reset.set_defaults(func=_reset)
