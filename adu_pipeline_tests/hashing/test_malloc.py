"""keep_freed_memory sets glibc's thresholds (the machines we run on use glibc)."""

import platform

import pyarrow as pa
import pytest

from adu_pipeline.hashing.malloc import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_is_accepted_by_glibc():
    assert keep_freed_memory() is True


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_arrow_allocates_from_its_jemalloc_pool():
    try:
        pa.jemalloc_memory_pool()
    except NotImplementedError:
        pytest.skip("this pyarrow build has no jemalloc")
    previous = pa.default_memory_pool()
    try:
        keep_freed_memory()
        assert pa.default_memory_pool().backend_name == "jemalloc"
    finally:
        pa.set_memory_pool(previous)
