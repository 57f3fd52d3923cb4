"""`adu local reset` against a running local stack, and the stack's one-emulator-per-state rule."""

from __future__ import annotations

import pytest

from adu_pipeline.errors import AduError
from adu_pipeline.local.stack import LocalStack, reset_local_state


def test_reset_refuses_while_the_stack_runs_and_clears_once_stopped(tmp_path):
    root = tmp_path / ".local"
    stack = LocalStack(root / "emulator").start()
    try:
        with pytest.raises(AduError, match="running on .*stop it first") as caught:
            reset_local_state(root)
        assert "\n" not in str(caught.value)
        assert (root / "emulator").is_dir()
        with pytest.raises(AduError, match="already using the state folder"):
            LocalStack(root / "emulator").start()  # a second stack on the same state
    finally:
        stack.stop()
    assert reset_local_state(root) is True
    assert not root.exists()
    assert reset_local_state(root) is False
