"""dmlctl's modules import one another without a cycle, counting imports inside functions too
(a lazy import only hides a cycle, it does not remove it)."""

import ast
from pathlib import Path

import dmlctl

PACKAGE_DIR = Path(dmlctl.__file__).parent


def _module_name(path: Path, package_dir: Path) -> str:
    parts = path.relative_to(package_dir.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _import_graph(package_dir: Path = PACKAGE_DIR) -> dict[str, set[str]]:
    """Each dmlctl module and the dmlctl modules it imports (a package's own submodules
    importing one another through the package are not edges to the package)."""
    modules = {_module_name(p, package_dir): p for p in package_dir.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                targets.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, base] if base else anchor)
                # `from a import b` imports the module a.b when there is one, else a.
                targets.update(
                    f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base
                    for alias in node.names
                )
        graph[name] = {t for t in targets if t in modules and t != name}
    return graph


def _find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    visiting: list[str] = []
    done: set[str] = set()

    def visit(module: str) -> list[str] | None:
        if module in visiting:
            return [*visiting[visiting.index(module) :], module]
        if module in done:
            return None
        visiting.append(module)
        for target in sorted(graph[module]):
            if cycle := visit(target):
                return cycle
        visiting.pop()
        done.add(module)
        return None

    for module in sorted(graph):
        if cycle := visit(module):
            return cycle
    return None


def test_no_import_cycle_among_dmlctl_modules():
    cycle = _find_cycle(_import_graph())
    assert cycle is None, "import cycle: " + " -> ".join(cycle)


def test_the_cycle_finder_finds_a_cycle():
    assert _find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _find_cycle({"a": {"b"}, "b": set()}) is None


def test_the_graph_sees_lazy_and_relative_imports(tmp_path):
    package = tmp_path / "pkg"
    (package / "sub").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("def f():\n    from pkg.sub import b\n")
    (package / "sub" / "__init__.py").write_text("from . import b\n")
    (package / "sub" / "b.py").write_text("from ..a import f\n")
    graph = _import_graph(package)
    assert graph["pkg.a"] == {"pkg.sub.b"}
    assert graph["pkg.sub"] == {"pkg.sub.b"}
    assert graph["pkg.sub.b"] == {"pkg.a"}
    assert _find_cycle(graph) == ["pkg.a", "pkg.sub.b", "pkg.a"]


# Lower layers never import higher ones; modules of one layer may import each other.
LAYERS = (
    ("dmlctl", "dmlctl.errors", "dmlctl.paths", "dmlctl.store", "dmlctl.engines"),
    ("dmlctl.lab", "dmlctl.security"),
    ("dmlctl.playbooks",),
    ("dmlctl.doctor", "dmlctl.staging"),
    ("dmlctl.cluster",),
    ("dmlctl.jobs",),
    ("dmlctl.ui",),
    ("dmlctl.commands",),
    ("dmlctl.cli",),
)


def _layer(module: str) -> int:
    for index, prefixes in enumerate(LAYERS):
        if any(module == p or (p != "dmlctl" and module.startswith(p + ".")) for p in prefixes):
            return index
    raise AssertionError(f"{module} belongs to no layer: add its package to LAYERS")


def _third_party_imports(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names.add(node.module.split(".")[0])
    return names


def _modules() -> dict[str, Path]:
    return {_module_name(p, PACKAGE_DIR): p for p in PACKAGE_DIR.rglob("*.py")}


def test_packages_depend_one_way():
    wrong = [
        f"{module} imports {target}"
        for module, targets in _import_graph().items()
        for target in targets
        if _layer(target) > _layer(module)
    ]
    assert not wrong, "\n".join(wrong)


def test_only_the_cli_and_commands_use_typer_or_the_commands():
    allowed = ("dmlctl.cli", "dmlctl.commands")
    wrong = [
        module
        for module, path in _modules().items()
        if not module.startswith(allowed)
        and ("typer" in _third_party_imports(path) or any(
            t.startswith("dmlctl.commands") for t in _import_graph()[module]
        ))
    ]  # fmt: skip
    assert not wrong, f"outside the command layer: {wrong}"


def test_rich_is_used_only_by_the_ui_package():
    wrong = [
        module
        for module, path in _modules().items()
        if "rich" in _third_party_imports(path) and not module.startswith("dmlctl.ui")
    ]
    assert not wrong, f"rendering outside dmlctl.ui: {wrong}"


def test_modules_and_functions_stay_readable_in_one_sitting():
    too_long = []
    for module, path in _modules().items():
        source = path.read_text()
        if (lines := len(source.splitlines())) > 300:
            too_long.append(f"{module}: {lines} lines (at most 300)")
        for node in ast.walk(ast.parse(source)):
            if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            if (length := node.end_lineno - node.lineno + 1) > 60:
                too_long.append(f"{module}.{node.name}: {length} lines (at most 60)")
    assert not too_long, "\n".join(too_long)


def test_the_layer_check_catches_an_upward_import():
    assert _layer("dmlctl.security.tls") < _layer("dmlctl.ui.console")
    assert _layer("dmlctl.commands.status") > _layer("dmlctl.cluster.status")
    assert _layer("dmlctl.cli") == len(LAYERS) - 1
