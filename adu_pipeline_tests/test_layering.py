"""The layout holds: libraries never import Dagster (docs/architecture.md), the AMC client needs
no pandas, no two modules of adu_pipeline import each other (directly or around a loop, at module
level or inside a function), and adu_pipeline/defs holds only definitions.

Import checks run in a fresh interpreter so modules other tests loaded do not hide an import.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "adu_pipeline"
LIBRARIES = (
    "adu_pipeline.settings",
    "adu_pipeline.normalization",
    "adu_pipeline.hashing",
    "adu_pipeline.hashing.cli",
    "adu_pipeline.dataset",
    "adu_pipeline.staging.landing",
    "adu_pipeline.staging.quality",
    "adu_pipeline.staging.s3",
    "adu_pipeline.amc",
    "adu_pipeline.amc.cli",
    "adu_pipeline.emulator.server",
    "adu_pipeline.emulator.cli",
    "adu_pipeline.local.stack",
    "adu_pipeline.local.sample_data",
    "adu_pipeline.local.conversions",
)


def loaded_after_import(module: str, watched: tuple[str, ...]) -> list[str]:
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        f"print(' '.join(m for m in {watched!r} if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return done.stdout.split()


@pytest.mark.parametrize("module", LIBRARIES)
def test_library_does_not_import_dagster(module):
    assert loaded_after_import(module, ("dagster", "dagster_aws")) == []


def test_amc_client_does_not_import_pandas_or_pandera():
    assert loaded_after_import("adu_pipeline.amc.cli", ("pandas", "pandera")) == []


# -- import cycles ------------------------------------------------------------------------------


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def our_modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, name: str, modules: dict[str, Path]) -> set[str]:
    """Every adu_pipeline module `path` imports, anywhere in the file (function bodies too).
    `from pkg import sub` counts as importing the submodule, not the package's __init__."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            targets = []
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                targets.append(sub if sub in modules else base)
        else:
            continue
        found.update(t for t in targets if t in modules and t != name)
    return found


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_our_modules():
    modules = our_modules()
    graph = {name: imports_of(path, name, modules) for name, path in modules.items()}
    assert cycles(graph) == []


def test_the_cycle_finder_finds_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_relative_and_submodule_imports_resolve(tmp_path):
    modules = {"adu_pipeline.x": tmp_path / "x.py", "adu_pipeline.x.y": tmp_path / "y.py"}
    source = tmp_path / "z.py"
    source.write_text("def f():\n    from adu_pipeline.x import y\n    import adu_pipeline.x\n")
    assert imports_of(source, "adu_pipeline.z", modules) == {"adu_pipeline.x.y", "adu_pipeline.x"}


# -- defs/ holds definitions only -----------------------------------------------------------------


def test_defs_modules_declare_only_definitions():
    """Each defs module is one @dg.definitions function: helpers live in adu_pipeline.lib."""
    for path in sorted((PACKAGE / "defs").rglob("*.py")):
        tree = ast.parse(path.read_text())
        functions = [n for n in tree.body if isinstance(n, ast.FunctionDef | ast.ClassDef)]
        if path.name == "__init__.py":
            assert functions == [], path
            continue
        assert len(functions) == 1, path
        decorators = [ast.unparse(d) for d in functions[0].decorator_list]
        assert decorators == ["dg.definitions"], path
