"""`adu dev`: the local stack plus the Dagster UI and daemon (`dagster dev -w workspace.yaml`).

The stack runs in this process; `dagster dev` runs as a child with ADU_ENV=local and the stack's
ports in its environment, so the code location, its runs and the daemon's sensors all use it.
Ctrl-C (or SIGTERM) stops dagster dev first, then the stack.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

from adu_pipeline.errors import AduError

STOP_TIMEOUT_SECONDS = 30


def dagster_command(ui_port: int) -> list[str]:
    local = Path(sys.executable).parent / "dagster"
    executable = str(local) if local.exists() else shutil.which("dagster")
    if not executable:
        raise AduError("the dagster command is not installed: run `make venv` first")
    return [executable, "dev", "-w", "workspace.yaml", "-p", str(ui_port)]


def _stop(process: subprocess.Popen[bytes]) -> int:
    """Ask dagster dev to stop (SIGINT, as Ctrl-C would), then insist."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        try:
            return process.wait(timeout=STOP_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.terminate()
            try:
                return process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
    return process.wait()


def _handler(args: argparse.Namespace) -> int:
    from adu_pipeline.defs import project
    from adu_pipeline.defs.environments import local_ports
    from adu_pipeline.demo import dagster_home
    from adu_pipeline.local_stack import LocalStack, describe

    s3_port, amc_port = local_ports()
    home = dagster_home()
    stack = LocalStack(s3_port=s3_port, amc_port=amc_port, step_seconds=args.step_seconds).start()
    process = None
    previous = signal.getsignal(signal.SIGTERM)
    try:
        print(describe(stack))
        env = {**os.environ, **stack.env(), "DAGSTER_HOME": str(home)}
        print(f"DAGSTER_HOME {home}; Dagster UI on http://127.0.0.1:{args.ui_port}", flush=True)
        process = subprocess.Popen(
            dagster_command(args.ui_port), cwd=project.project_dir(), env=env
        )

        def forward_term(*_: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, forward_term)
        try:
            code = process.wait()
        except KeyboardInterrupt:
            code = _stop(process)
        return 0 if code in (0, -signal.SIGINT, 130) else code
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process is not None and process.poll() is None:
            _stop(process)
        stack.stop()
        print("dagster dev and the local stack stopped", flush=True)


def add_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "dev", help="local stack + Dagster UI and daemon (dagster dev), stopped by Ctrl-C"
    )
    parser.add_argument("--ui-port", type=int, default=3000, help="Dagster UI port (3000)")
    parser.add_argument(
        "--step-seconds", type=float, default=None, help="emulator job step (default 1 s)"
    )
    parser.set_defaults(func=_handler)
