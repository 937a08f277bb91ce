"""The layers import one way: the command line over the testing kit over the core,
and the command line uses only their public names, as any other user would.

Read from the source with ``ast``, not by importing, so every import counts: those
inside functions and under ``TYPE_CHECKING`` too, which importing would not show.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from pathlib import Path

PACKAGE = "transcribe_poller"
ROOT = Path(__file__).resolve().parent.parent / "src" / PACKAGE
CLI = f"{PACKAGE}._cli"
TESTING = f"{PACKAGE}.testing"


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def parsed(path: Path, text: str | None = None) -> ast.Module:
    """The module at ``path``, or ``text`` as if it were there."""
    return ast.parse(path.read_text(encoding="utf-8") if text is None else text, str(path))


def imported(path: Path, text: str | None = None) -> Iterator[tuple[int, list[str]]]:
    """Each import statement of ``path``: its line and the modules it may import,
    absolute (for ``from . import x``, the package and ``package.x``: x may be a module)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(parsed(path, text)):
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


# -- the command line on the public API ------------------------------------------------

CLI_MODULES = sorted((ROOT / "_cli").glob("*.py"))

# What _cli still takes from a private module, each with the public name it waits
# for; the test below fails once that name exists, so this list only ever shrinks.
AWAITING_A_PUBLIC_NAME: dict[tuple[str, str], str] = {}


def is_private(name: str) -> bool:
    """``_x`` is private; ``__version__`` (a dunder) and ``x`` are not."""
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_names_taken(path: Path, text: str | None = None) -> Iterator[tuple[int, str, str]]:
    """``(line, module, name)`` for each name an import of ``path`` takes from the
    library or the kit through a private door: a private module on the way
    (``transcribe_poller._jobs``, ``testing._control``) or a private name
    (``from .. import _defaults``). The command line's own modules do not count."""
    for line, targets in imported(path, text):
        module, names = targets[0], [target.rpartition(".")[2] for target in targets[1:]]
        if not (module == PACKAGE or module.startswith(PACKAGE + ".")):
            continue
        if module == CLI or module.startswith(CLI + "."):
            continue
        if not names:  # import transcribe_poller._x
            names = [module.rpartition(".")[2]]
            module = module.rpartition(".")[0]
        through_private = any(is_private(part) for part in module.split("."))
        for name in names:
            if through_private or is_private(name):
                yield line, module, name


def private_attributes_read(path: Path, text: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line, expression)`` for each private attribute ``path`` reads of something
    not its own (``poller._client``): ``self`` and ``cls`` are its own, and a module
    of another library imported whole (``argparse._SubParsersAction``) is not ours
    to judge."""
    tree = parsed(path, text)
    others = {
        (alias.asname or alias.name).partition(".")[0]
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
        if not alias.name.startswith(PACKAGE)
    }
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and is_private(node.attr):
            owner = node.value
            if isinstance(owner, ast.Name) and owner.id in {"self", "cls", *others}:
                continue
            yield node.lineno, ast.unparse(node)


def test_the_command_line_uses_only_public_names() -> None:
    """No module of _cli imports a private name of the library or the kit, or reads a
    private attribute of their objects: the command line is built as a user would
    build it. The names still awaiting a public spelling are listed, each once."""
    assert len(CLI_MODULES) >= 8, CLI_MODULES
    taken = {
        f"{path.relative_to(ROOT.parent)}:{line} imports {name} from {module}": (module, name)
        for path in CLI_MODULES
        for line, module, name in private_names_taken(path)
    }
    unlisted = [where for where, key in taken.items() if key not in AWAITING_A_PUBLIC_NAME]
    assert unlisted == []
    reads = [
        f"{path.relative_to(ROOT.parent)}:{line} reads {expression}"
        for path in CLI_MODULES
        for line, expression in private_attributes_read(path)
    ]
    assert reads == []
    # Each awaited name is taken in one place only: one import to change.
    assert sorted(taken.values()) == sorted(set(taken.values()))


def bare_exit_statuses(path: Path, text: str | None = None) -> Iterator[tuple[int, str]]:
    """``(line, code)`` for each whole number ``path`` returns or exits with, where an
    ExitCode belongs: ``return 2``, ``sys.exit(1)``, ``parser.exit(2, ...)``."""
    for node in ast.walk(parsed(path, text)):
        if isinstance(node, ast.Return):
            value = node.value
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr != "exit" or not node.args:
                continue
            value = node.args[0]
        else:
            continue
        values = [value]
        while values:
            value = values.pop()
            if isinstance(value, ast.IfExp):  # return 0 if ok else 1
                values += [value.body, value.orelse]
            elif isinstance(value, ast.Constant) and type(value.value) is int:
                yield node.lineno, ast.unparse(node)
                break


def test_every_exit_status_is_an_exit_code() -> None:
    """The command line's statuses come from one enum (ExitCode), never bare numbers."""
    bare = [
        f"{path.relative_to(ROOT.parent)}:{line}: {code}"
        for path in CLI_MODULES
        for line, code in bare_exit_statuses(path)
    ]
    assert bare == []
    sample = (
        "def run():\n"
        "    if x:\n"
        "        return 2\n"
        "    sys.exit(1)\n"
        "    return ExitCode.OK if y else 1\n"
    )
    assert sorted(bare_exit_statuses(ROOT / "_cli" / "_sample.py", sample)) == [
        (3, "return 2"),
        (4, "sys.exit(1)"),
        (5, "return ExitCode.OK if y else 1"),
    ]


def test_the_names_awaited_are_not_public_yet() -> None:
    """Once the library or the kit has the public name, _cli must use it instead, and
    the entry goes from AWAITING_A_PUBLIC_NAME."""
    arrived = []
    for (module, name), public in AWAITING_A_PUBLIC_NAME.items():
        where, _, dotted = public.partition(":")
        found: object = importlib.import_module(where)
        for part in dotted.split("."):
            found = getattr(found, part, None)
        if found is not None:
            arrived.append(f"{module}.{name}: use {public} now")
    assert arrived == []


def test_the_reading_sees_private_names_and_reads() -> None:
    """The checks see what they must refuse, in a module of _cli written to break
    each rule (read as text: no such file is written)."""
    sample = ROOT / "_cli" / "_sample.py"
    text = (
        "import argparse\n"
        "import transcribe_poller._jobs\n"
        "from .. import JobRef, _defaults, __version__\n"
        "from .._poller import Poller\n"
        "from ..testing._control import JOBS_PATH\n"
        "from ._status import ExitCode\n"
        "def f(poller, self):\n"
        "    return poller._client, self._x, argparse._SubParsersAction\n"
    )
    assert sorted(private_names_taken(sample, text)) == [
        (2, "transcribe_poller", "_jobs"),
        (3, "transcribe_poller", "_defaults"),
        (4, "transcribe_poller._poller", "Poller"),
        (5, "transcribe_poller.testing._control", "JOBS_PATH"),
    ]
    assert list(private_attributes_read(sample, text)) == [(8, "poller._client")]
