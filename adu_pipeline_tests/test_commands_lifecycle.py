"""`adu dev` and `adu local up` as a user runs them: real processes, real ports, real signals.

Each runs in a temporary project (ADU_PROJECT_DIR) so nothing touches the checkout's data/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    for folder in ("data/datasets", "data/segments"):
        shutil.copytree(ROOT / folder, project / folder)
    shutil.copy(ROOT / "workspace.yaml", project / "workspace.yaml")
    shutil.copy(ROOT / "data/instances.yaml", project / "data/instances.yaml")
    return project


def _env(project: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "ADU_PROJECT_DIR": str(project),
        "DAGSTER_HOME": str(project / "dagster_home"),
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a shell starts a background job


def _adu(*args: str, env: dict[str, str], background: bool = False) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "adu_pipeline.cli", *args],
        env=env,
        cwd=env["ADU_PROJECT_DIR"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
        preexec_fn=_ignore_sigint if background else None,
    )


def _processes_of(marker: str) -> list[int]:
    """Live processes whose command line or environment names `marker` (our temp project)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in text and state != "Z":
            found.append(int(entry.name))
    return found


def _wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def test_adu_dev_serves_the_ui_and_sigterm_stops_every_process(tmp_path):
    project = _project(tmp_path)
    ui_port = _free_port()
    env = _env(project, ADU_LOCAL_S3_PORT=str(_free_port()), ADU_LOCAL_AMC_PORT=str(_free_port()))
    dev = _adu("dev", "--ui-port", str(ui_port), env=env, background=True)
    try:

        def ui_up() -> bool:
            assert dev.poll() is None, dev.stdout.read()
            try:
                return httpx.get(f"http://127.0.0.1:{ui_port}/server_info", timeout=2).is_success
            except httpx.HTTPError:
                return False

        _wait_until(ui_up, 180, "the Dagster UI")
        assert len(_processes_of(str(project))) >= 3  # adu dev, dagster dev, webserver, daemon...
        dev.send_signal(signal.SIGTERM)
        assert dev.wait(timeout=90) == 0
        _wait_until(lambda: not _processes_of(str(project)), 30, "every child to exit")
        assert "dagster dev and the local stack stopped" in dev.stdout.read()
    finally:
        for pid in _processes_of(str(project)):
            os.kill(pid, signal.SIGKILL)


def test_local_up_prints_the_environment_and_stops_on_ctrl_c(tmp_path):
    project = _project(tmp_path)
    up = _adu("local", "up", "--s3-port", "0", "--amc-port", "0", env=_env(project))
    try:
        lines = []
        while "Ctrl-C to stop" not in "".join(lines):
            line = up.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
        output = "".join(lines)
        assert "export ADU_ENV=local" in output and "AMC emulator:" in output
        up.send_signal(signal.SIGINT)
        assert up.wait(timeout=30) == 0
        assert "local stack stopped" in up.stdout.read()
    finally:
        if up.poll() is None:
            up.kill()


def test_local_up_on_a_busy_port_fails_at_once_with_one_line(tmp_path):
    project = _project(tmp_path)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        up = _adu("local", "up", "--s3-port", str(port), "--amc-port", "0", env=_env(project))
        try:
            out, _ = up.communicate(timeout=60)
        finally:
            if up.poll() is None:
                up.kill()
    assert up.returncode == 2
    assert out.strip().count("\n") == 0, out
    assert out.startswith(f"error: cannot start S3 on 127.0.0.1:{port}")
    assert "already running" in out and "Traceback" not in out


def test_a_dagster_dev_that_ignores_sigint_is_terminated_and_counts_as_stopped(capsys, monkeypatch):
    """On a loaded machine dagster dev may outlast the SIGINT grace; `adu dev` then sends
    SIGTERM, and that stop, which it asked for, is not a failure."""
    from adu_pipeline.local import dev

    monkeypatch.setitem(dev.GRACE_SECONDS, "SIGINT", 0.5)
    stubborn = subprocess.Popen(
        [sys.executable, "-c", "import signal, time; signal.signal(signal.SIGINT, "
         "signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"],
        stdout=subprocess.PIPE,
        process_group=0,
    )  # fmt: skip
    assert stubborn.stdout.readline() == b"ready\n"
    code = dev._stop(stubborn)
    assert code == -signal.SIGTERM
    assert "did not stop within 0.5 s of SIGINT" in capsys.readouterr().out
    assert dev.exit_status(code, asked_to_stop=True) == 0
    assert dev.exit_status(code, asked_to_stop=False) == 143  # it died on its own: a failure
    assert dev.exit_status(1, asked_to_stop=True) == 1
    assert dev.exit_status(130, asked_to_stop=False) == 0  # Ctrl-C in its own terminal
