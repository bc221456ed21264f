"""The package's shape: no import cycle between its modules, and no model plug-in importing another."""
import ast
import os

import jaxembed

PACKAGE = os.path.dirname(jaxembed.__file__)


def imported_names(tree: ast.AST) -> set[str]:
    """Every dotted name an import statement in `tree` names: `import a.b` gives a.b; `from a import b` gives
    a and a.b (b may be a module)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


OUTPUT_LAYER = ("jaxembed.io", "jaxembed.eval")
DEFERRED_TO_OUTPUT_LAYER = {"jaxembed.vectors"}
"""Modules whose functions may import the output layer (io, eval) in their bodies: Vectors' gensim-compatible file
and evaluation methods (save_word2vec_format, evaluate_word_analogies, ...), which that layer builds on."""


def deferred_output_imports(tree: ast.AST) -> set[str]:
    """The io and eval names imported inside function bodies of `tree`."""
    return {name for node in ast.walk(tree) if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            for name in imported_names(node) if name.startswith(OUTPUT_LAYER)}


def module_imports() -> dict[str, set[str]]:
    """module -> the jaxembed modules it imports anywhere in its source (top level or inside functions), except the
    deferred imports DEFERRED_TO_OUTPUT_LAYER allows."""
    sources = {}
    for root, _, files in os.walk(PACKAGE):
        for name in files:
            if name.endswith(".py"):
                path = os.path.join(root, name)
                module = os.path.relpath(path, os.path.dirname(PACKAGE))[:-3].replace(os.sep, ".").removesuffix(".__init__")
                with open(path, encoding="utf-8") as f:
                    sources[module] = ast.parse(f.read())
    allowed = {m: deferred_output_imports(tree) if m in DEFERRED_TO_OUTPUT_LAYER else set() for m, tree in sources.items()}
    return {m: (imported_names(tree) & set(sources)) - {m} - allowed[m] for m, tree in sources.items()}


def test_only_the_gensim_methods_defer_output_imports():
    import jaxembed.vectors
    tree = ast.parse(open(jaxembed.vectors.__file__, encoding="utf-8").read())
    owners = {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef) and deferred_output_imports(node)}
    assert owners == {"evaluate_word_analogies", "evaluate_word_pairs", "save_word2vec_format", "load_word2vec_format"}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """A cycle of the graph as a list of nodes, or None (depth-first search)."""
    state, path = {}, []

    def visit(node):
        state[node] = "open"
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == "open":
                return path[path.index(nxt):] + [nxt]
            if nxt not in state and (cycle := visit(nxt)):
                return cycle
        state[node] = "done"
        path.pop()
        return None

    for node in sorted(graph):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_cycle_finder_finds_a_cycle():
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b"}, "b": set()}) is None


def test_no_import_cycle_between_modules():
    """Package __init__ files re-export their children, so edges into an enclosing package are left out."""
    graph = {m: {i for i in imports if not m.startswith(i + ".")} for m, imports in module_imports().items()}
    assert find_cycle(graph) is None


def test_model_plugins_do_not_import_each_other():
    imports = module_imports()
    plugins = [m for m in imports if m.startswith("jaxembed.models.") and m != "jaxembed.models.base"]
    from jaxembed.models import PLUGINS
    assert sorted(plugins) == sorted({module.__name__ for module in PLUGINS.values()})
    for plugin in plugins:
        assert not imports[plugin] & (set(plugins) | {"jaxembed.fit", "jaxembed.loop"}), plugin
