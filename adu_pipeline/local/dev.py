"""`adu dev`: the local stack plus the Dagster UI and daemon (`dagster dev -w workspace.yaml`).

The stack runs in this process; `dagster dev` runs as a child with ADU_ENV=local, the stack's
ports and its ADU_AMC_* credentials in its environment (never in a file or run config: the `amc`
resource reads them through dg.EnvVar), so the code location, its runs and the daemon's sensors
all use it.
Ctrl-C (or SIGTERM) stops dagster dev first, then the stack.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from adu_pipeline.errors import AduError

# dagster dev stops its webserver and daemon on SIGINT; waiting longer than this for the daemon's
# threads to wind down only keeps Ctrl-C waiting (runs are separate processes of the group).
GRACE_SECONDS = {"SIGINT": 6.0, "SIGTERM": 3.0}
# exit codes of a dagster dev that _stop's signals ended (negative: killed by the signal)
STOPPED_BY_US = {0, 130, 143, -signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL}


def dagster_command(ui_port: int) -> list[str]:
    local = Path(sys.executable).parent / "dagster"
    executable = str(local) if local.exists() else shutil.which("dagster")
    if not executable:
        raise AduError("the dagster command is not installed: run `make venv` first")
    return [executable, "dev", "-w", "workspace.yaml", "-p", str(ui_port)]


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
        os.killpg(process.pid, signum)


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Stop dagster dev and everything it started (webserver, daemon, code servers).

    It runs in its own process group, so the whole group is asked (SIGINT, as Ctrl-C would),
    then told (SIGTERM), then killed: no orphan survives whatever signal stopped `adu dev`."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        timeout = GRACE_SECONDS[signum.name]
        _signal_group(process, signum)
        try:
            code = process.wait(timeout=timeout)
            break
        except subprocess.TimeoutExpired:
            print(f"dagster dev did not stop within {timeout:g} s of {signum.name}", flush=True)
    else:
        _signal_group(process, signal.SIGKILL)
        code = process.wait()
    _signal_group(process, signal.SIGTERM)  # children dagster dev left behind, if any
    return code


def exit_status(code: int, *, asked_to_stop: bool) -> int:
    """`adu dev`'s exit status for dagster dev's exit code: 0 for a stop we asked for, even if
    it took SIGTERM or SIGKILL (a loaded machine), or for Ctrl-C; else the failure, with a
    signal death as 128 + N as a shell reports it."""
    if code in (STOPPED_BY_US if asked_to_stop else {0, 130, -signal.SIGINT}):
        return 0
    return 128 - code if code < 0 else code


def _child_setup() -> None:
    """In the child: Ctrl-C semantics even if our parent shell started us with SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _handler(args: argparse.Namespace) -> int:
    from adu_pipeline.local.demo import dagster_home
    from adu_pipeline.local.stack import LocalStack, describe, local_ports
    from adu_pipeline.settings import load_settings

    s3_port, amc_port = local_ports()
    s3_port = s3_port if args.s3_port is None else args.s3_port
    amc_port = amc_port if args.amc_port is None else args.amc_port
    home = dagster_home()
    stack = LocalStack(s3_port=s3_port, amc_port=amc_port, step_seconds=args.step_seconds).start()
    process = None
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with it ignored
    try:
        print(describe(stack))
        env = {**os.environ, **stack.env(), "DAGSTER_HOME": str(home)}
        print(f"DAGSTER_HOME {home}; Dagster UI on http://127.0.0.1:{args.ui_port}", flush=True)
        process = subprocess.Popen(
            dagster_command(args.ui_port),
            cwd=load_settings().project_dir,
            env=env,
            process_group=0,  # our own group: _stop reaches every process dagster dev starts
            preexec_fn=_child_setup,
        )

        def forward_term(*_: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, forward_term)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            return exit_status(_stop(process), asked_to_stop=True)
        return exit_status(code, asked_to_stop=False)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if process is not None:
            _stop(process)
        stack.stop()
        print("dagster dev and the local stack stopped", flush=True)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev", help="local stack + Dagster UI and daemon (dagster dev), stopped by Ctrl-C"
    )
    parser.add_argument("--ui-port", type=int, default=3000, help="Dagster UI port (3000)")
    parser.add_argument("--s3-port", type=int, help="default ADU_LOCAL_S3_PORT or 9573")
    parser.add_argument("--amc-port", type=int, help="default ADU_LOCAL_AMC_PORT or 9574")
    parser.add_argument(
        "--step-seconds", type=float, default=None, help="emulator job step (default 1 s)"
    )
    parser.set_defaults(func=_handler)
