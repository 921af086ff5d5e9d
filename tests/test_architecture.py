"""The import graph has no arrow pointing up: each part of dpsynth imports only from the floors below.

Data flows one way (load, schema, door, measurements, model, samples, evaluate and attack,
certificate, workflows); a module importing from a floor above it is a cycle waiting to
happen, and a sign that something sits on the wrong floor. Run alone:
``python -m pytest tests/test_architecture.py``.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "dpsynth"

# Floor of each top-level part; a module may import from its own floor and those below.
FLOORS = {
    "errors": 0, "_version": 0, "random_state": 0, "progress": 0, "datasets": 0, "digest": 0, "validation": 0,
    "interrupts": 0, "processes": 0, "peak_memory": 0,
    "privacy": 1,
    "schema": 2, "models": 2,
    "data": 3,
    "generators": 4,
    "evaluate": 5, "attacks": 5,
    "report": 6,
    "certificate": 7,
    "workflows": 8,
    "synthesizer": 9,
    "cli": 10, "__init__": 10, "__main__": 10,
}


def part_of(module: str) -> str:
    """The top-level part of a dotted dpsynth module name (``dpsynth.data.load`` -> ``data``)."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def imports_of(path: Path) -> list[str]:
    """Every dpsynth module ``path`` imports, at the top or inside a function."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names if alias.name.startswith("dpsynth")]
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("dpsynth"):
            found += [f"{node.module}.{alias.name}" if node.module == "dpsynth" else node.module for alias in node.names]
    return found


def modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE.parent).with_suffix("")
        yield ".".join(relative.parts), path


def test_every_part_has_a_floor():
    parts = {part_of(name) for name, _ in modules()}
    assert parts <= set(FLOORS), f"parts without a floor: {sorted(parts - set(FLOORS))}"


@pytest.mark.parametrize("name,path", list(modules()), ids=[name for name, _ in modules()])
def test_no_import_points_up(name, path):
    floor = FLOORS[part_of(name)]
    upward = [target for target in imports_of(path) if FLOORS.get(part_of(target), 99) > floor]
    assert not upward, f"{name} (floor {floor}) imports from above: {upward}"
