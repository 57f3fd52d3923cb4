"""keep_freed_memory sets glibc's thresholds (the machines we run on use glibc) and Arrow's
pool; each test restores the pool it found."""

import platform

import pyarrow as pa
import pytest

from adu_pipeline.hashing.malloc import keep_freed_memory


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_keep_freed_memory_is_accepted_by_glibc():
    previous = pa.default_memory_pool()
    try:
        assert keep_freed_memory() is True
    finally:
        pa.set_memory_pool(previous)


def test_arrow_allocates_from_its_jemalloc_pool(monkeypatch):
    monkeypatch.delenv("ARROW_DEFAULT_MEMORY_POOL", raising=False)
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


def test_arrow_default_memory_pool_set_by_the_user_wins(monkeypatch):
    monkeypatch.setenv("ARROW_DEFAULT_MEMORY_POOL", "system")
    previous = pa.default_memory_pool()
    try:
        pa.set_memory_pool(pa.system_memory_pool())
        keep_freed_memory()
        assert pa.default_memory_pool().backend_name == "system"
    finally:
        pa.set_memory_pool(previous)
