"""The package's shape: imports at the top of modules, and tests that mirror the package.

The layers themselves are import-linter's contracts (pyproject.toml, ``make imports``).
"""

from __future__ import annotations

import ast
import io
import tokenize
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "fedi_town"
TESTS = ROOT / "tests"
DEFERRED = "# deferred:"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


def comments_by_line(source: str) -> dict[int, str]:
    tokens = tokenize.generate_tokens(io.StringIO(source).readline)
    return {t.start[0]: t.string for t in tokens if t.type == tokenize.COMMENT}


def is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def imports_in_functions(tree: ast.AST) -> list[ast.Import | ast.ImportFrom]:
    """Every import inside a function or method, but not under ``if TYPE_CHECKING:``."""
    found: list[ast.Import | ast.ImportFrom] = []

    def visit(node: ast.AST, in_function: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and is_type_checking(child):
                for other in child.orelse:
                    visit(other, in_function)
                continue
            if isinstance(child, ast.Import | ast.ImportFrom) and in_function:
                found.append(child)
            inside = in_function or isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef)
            visit(child, inside)

    visit(tree, False)
    return found


def says_why(comment: str) -> bool:
    """``# deferred: <why>``, with a reason after the colon."""
    return comment.startswith(DEFERRED) and bool(comment[len(DEFERRED) :].strip())


def undeclared(source: str) -> list[int]:
    """The line of each import inside a function whose lines carry no ``# deferred: <why>``."""
    comments = comments_by_line(source)
    found = []
    for node in imports_in_functions(ast.parse(source)):
        lines = range(node.lineno, (node.end_lineno or node.lineno) + 1)
        if not any(says_why(comments.get(line, "")) for line in lines):
            found.append(node.lineno)
    return found


def test_imports_are_at_the_top_unless_deferred_on_purpose_with_a_reason():
    # Given every module of the package
    # When the imports inside functions are collected
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules()
        for line in undeclared(path.read_text())
    ]
    # Then there are none, but those saying why they are deferred ("# deferred: ...")
    assert found == [], (
        "import at the top of the module (fix the direction of a cycle instead of hiding it), "
        f"or say why it is deferred with a '{DEFERRED} ...' comment on its line: {found}"
    )


def test_the_import_check_sees_methods_and_nested_functions_and_honours_the_reason():
    # Given a module with imports at the top, in TYPE_CHECKING, in functions and methods
    source = (
        "import os\n"
        "from typing import TYPE_CHECKING\n"
        "if TYPE_CHECKING:\n"
        "    import json\n"
        "def f():\n"
        "    import re\n"
        "    def g():\n"
        "        from io import BytesIO\n"
        "class C:\n"
        "    def m(self):\n"
        "        import ast  # deferred: heavy and rarely used\n"
        "        if TYPE_CHECKING:\n"
        "            import csv\n"
        "    async def n(self):\n"
        "        import sys  # not a reason\n"
        "        from os import (  # deferred:\n"
        "            path,\n"
        "        )\n"
        "        from os import (\n"
        "            sep,  # deferred: a reason on any line of the statement\n"
        "        )\n"
    )
    # When its function-level imports without a reason are collected
    found = undeclared(source)
    # Then those in functions, nested functions and methods are, unless they say why
    assert found == [6, 8, 15, 16]


def mirrored_tests(module: Path) -> list[Path]:
    """The test modules of ``fedi_town/<dirs>/<stem>.py``: ``tests/<dirs>/test_<stem>*.py``."""
    relative = module.relative_to(PACKAGE)
    return sorted((TESTS / relative.parent).glob(f"test_{module.stem}*.py"))


def test_every_module_has_a_test_module_mirroring_its_place_in_the_package():
    # Given every module of the package (not the __init__.py files)
    found = [m for m in modules() if m.name != "__init__.py"]
    # When each looks for tests/<its dirs>/test_<its name>*.py
    missing = [str(m.relative_to(ROOT)) for m in found if not mirrored_tests(m)]
    # Then every one has at least one
    assert missing == [], f"modules without a mirrored test module: {missing}"
