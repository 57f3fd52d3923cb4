"""keep_freed_memory sets glibc's thresholds (the machines we run on use glibc)."""

import platform

import pytest

from adu_pipeline.hashing.malloc import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_is_accepted_by_glibc():
    assert keep_freed_memory() is True
