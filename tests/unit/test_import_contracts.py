"""The stdlib-only import contract (tools/import_contracts.py) that `make lint` runs."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import grimp

ROOT = Path(__file__).resolve().parents[2]


def _contracts() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "import_contracts", ROOT / "tools" / "import_contracts.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _graph(*imports: tuple[str, str]) -> grimp.ImportGraph:
    graph = grimp.ImportGraph()
    for name in ("app", "app.domain", "app.domain.money", "app.services"):
        graph.add_module(name)
    for name in ("numpy", "datetime", "zoneinfo"):
        graph.add_module(name, is_squashed=True)
    for line, (importer, imported) in enumerate(imports, start=1):
        graph.add_import(
            importer=importer, imported=imported, line_number=line, line_contents="import"
        )
    return graph


def _check(graph: grimp.ImportGraph) -> list[dict[str, object]]:
    contract = _contracts().StdlibOnlyContract(
        name="domain", session_options={}, contract_options={"source_modules": ["app.domain"]}
    )
    result = contract.check(graph, verbose=False)
    violations: list[dict[str, object]] = result.metadata["violations"]
    assert result.kept == (not violations)
    return violations


def test_standard_library_and_own_package_are_allowed() -> None:
    graph = _graph(
        ("app.domain.money", "datetime"),
        ("app.domain.money", "zoneinfo"),
        ("app.domain", "app.domain.money"),
    )
    assert _check(graph) == []


def test_third_party_and_other_layers_are_reported_with_lines() -> None:
    graph = _graph(
        ("app.domain.money", "datetime"),
        ("app.domain.money", "numpy"),
        ("app.domain", "app.services"),
    )
    assert _check(graph) == [
        {"importer": "app.domain", "imported": "app.services", "lines": [3]},
        {"importer": "app.domain.money", "imported": "numpy", "lines": [2]},
    ]
