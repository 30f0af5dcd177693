"""A contract type for import-linter: some packages import only the standard library.

import-linter's ``forbidden`` contract needs every forbidden package named, so a new third-party
import would pass unnoticed; this contract instead allows the standard library
(``sys.stdlib_module_names``), the source packages themselves and whatever is listed in
``allowed_modules``, and reports any other import with its line numbers.
"""

from __future__ import annotations

import sys

from grimp import ImportGraph
from importlinter import Contract, ContractCheck, fields, output


class StdlibOnlyContract(Contract):
    """Modules in ``source_modules`` import only the standard library, themselves and
    ``allowed_modules``. Needs ``include_external_packages = true`` at the top level."""

    type_name = "stdlib_only"

    source_modules = fields.ListField(subfield=fields.ModuleField())
    allowed_modules = fields.ListField(subfield=fields.ModuleField(), required=False, default=[])

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        sources = [m.name for m in self.source_modules]
        allowed = sources + [m.name for m in self.allowed_modules]
        violations = []
        for source in sources:
            for importer in sorted(graph.find_descendants(source) | {source}):
                for imported in sorted(graph.find_modules_directly_imported_by(importer)):
                    if _within(imported, allowed) or imported.split(".")[0] in _STDLIB:
                        continue
                    lines = sorted(
                        d["line_number"]
                        for d in graph.get_import_details(importer=importer, imported=imported)
                    )
                    violations.append({"importer": importer, "imported": imported, "lines": lines})
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for v in check.metadata["violations"]:
            where = ", ".join(f"l.{n}" for n in v["lines"])
            output.print_error(f"{v['importer']} imports {v['imported']} ({where})", bold=False)
            output.new_line()


_STDLIB = sys.stdlib_module_names


def _within(module: str, packages: list[str]) -> bool:
    return any(module == p or module.startswith(p + ".") for p in packages)
