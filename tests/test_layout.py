"""The layers import one way: the command line over the testing kit over the core.

Read from the source with ``ast``, not by importing, so every import counts: those
inside functions and under ``TYPE_CHECKING`` too, which importing would not show.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "transcribe_poller"
ROOT = Path(__file__).resolve().parent.parent / "src" / PACKAGE
CLI = f"{PACKAGE}._cli"
TESTING = f"{PACKAGE}.testing"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(path: Path) -> Iterator[tuple[int, list[str]]]:
    """Each import statement of ``path``: its line and the modules it may import,
    absolute (for ``from . import x``, the package and ``package.x``: x may be a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            yield node.lineno, [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # from . (the package), from .. (its parent), ...
                parts = package.split(".")
                anchor = parts[: len(parts) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            yield node.lineno, [base, *(f"{base}.{alias.name}" for alias in node.names)]


def imports_of(paths: list[Path], *banned: str) -> list[str]:
    """``file:line imports module``, once for each import statement that takes
    anything from a module under ``banned``."""
    found = []
    for path in paths:
        for line, targets in imported(path):
            hits = [
                target
                for target in targets
                if any(target == prefix or target.startswith(prefix + ".") for prefix in banned)
            ]
            if hits:
                found.append(f"{path.relative_to(ROOT.parent)}:{line} imports {hits[0]}")
    return found


# The core: the modules directly in the package. __main__ is the command's other
# entrance (python -m), so it belongs with the command line.
CORE = sorted(path for path in ROOT.glob("*.py") if path.name != "__main__.py")
KIT = sorted((ROOT / "testing").rglob("*.py"))


def test_the_core_imports_neither_the_command_line_nor_the_testing_kit() -> None:
    """No module of the core imports from _cli or testing, not even when deferred."""
    assert len(CORE) > 20, CORE  # the layout this test reads is the one it expects
    assert imports_of(CORE, CLI, TESTING) == []


def test_the_testing_kit_does_not_import_the_command_line() -> None:
    """No module of the testing kit imports from _cli."""
    assert len(KIT) > 10, KIT
    assert imports_of(KIT, CLI) == []


def test_the_reading_sees_relative_imports() -> None:
    """The check sees what it must refuse: __main__'s relative import of the CLI, and
    the CLI's imports of the kit two levels up."""
    assert imports_of([ROOT / "__main__.py"], CLI) == [
        "transcribe_poller/__main__.py:3 imports transcribe_poller._cli"
    ]
    assert any(
        found.endswith(f"imports {TESTING}")
        for found in imports_of(sorted((ROOT / "_cli").glob("*.py")), TESTING)
    )
