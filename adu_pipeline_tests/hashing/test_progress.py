"""Progress: one updating line on a terminal, plain periodic lines in logs, silent when quick."""

from __future__ import annotations

import io

from adu_pipeline.hashing.progress import ProgressLine


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_terminal_gets_one_updating_line_then_cleared():
    stream = _Terminal()
    progress = ProgressLine(stream, delay=0, every=0)
    progress(1000)
    progress(2000)
    progress.finish()
    text = stream.getvalue()
    assert "\n" not in text
    assert text.count("\r") == 3 and "hashing: 2,000 rows" in text


def test_log_stream_gets_whole_lines():
    stream = io.StringIO()
    progress = ProgressLine(stream, delay=0, every=0)
    progress(1000)
    progress(2000)
    progress.finish()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and lines[1].startswith("hashing: 2,000 rows, ")
    assert "\r" not in stream.getvalue()


def test_quick_runs_print_nothing():
    stream = io.StringIO()
    progress = ProgressLine(stream)  # waits 2 s before the first line
    progress(10)
    progress.finish()
    assert stream.getvalue() == ""
