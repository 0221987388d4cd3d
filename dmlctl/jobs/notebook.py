"""Notebooks as jobs: `dmlctl submit NOTEBOOK.ipynb [-- NAME=VALUE ...]`.

The launcher (dmlctl.jobs.launch) executes the notebook top to bottom with nbclient, the Jupyter
ecosystem's own executor, on an ipykernel of this Python started in the job's work directory and
environment (so its Spark session and h2o.init() reach the cluster as a script's do). Parameters
go into a cell after the one tagged `parameters` (papermill's convention), or first. The
executed notebook (outputs, figures, the failing cell and its error) is kept in the run
directory under the notebook's own name, and its figures beside it as figure-cellN.png.

Reading a notebook here needs only json; nbformat and nbclient (the `notebook` extra) are
imported by `execute` alone.
"""

import ast
import base64
import json
import os
import re
import shutil
import sys
import tempfile
from pathlib import Path

from dmlctl.errors import UsageError

NOTEBOOK_EXTRA = "pip install 'dmlctl[notebook]'"
PARAMETER = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)=(.*)$", re.DOTALL)
INJECTED_TAG = "injected-parameters"
# A kernel slow to start on a busy machine is not a failed notebook.
KERNEL_START_TIMEOUT = 120
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def load(path: Path) -> dict:
    """PATH as a notebook's JSON; UsageError when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None
    except ValueError:
        raise UsageError(f"{path} is not a notebook (not JSON)") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise UsageError(f"{path} is not a notebook (it has no cells)")
    return data


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


def code(path: Path) -> str:
    """The Python of a notebook's code cells (magics and shell lines left out)."""
    cells = [source(c) for c in load(path)["cells"] if c.get("cell_type") == "code"]
    lines = "\n".join(cells).splitlines()
    return "\n".join(line for line in lines if not line.lstrip().startswith(("%", "!")))


def parameters(args: list[str]) -> dict[str, object]:
    """NAME=VALUE arguments as values (a Python literal, else the text); UsageError otherwise."""
    values: dict[str, object] = {}
    for arg in args:
        match = PARAMETER.match(arg)
        if match is None:
            raise UsageError(
                f"notebook parameter {arg!r} is not NAME=VALUE",
                hint="e.g. dmlctl submit analysis.ipynb -- ntrees=100 title='first try'",
            )
        name, text = match.groups()
        try:
            values[name] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            values[name] = text
    return values


def inject(nb: dict, values: dict[str, object]) -> None:
    """A code cell assigning VALUES, after the cell tagged `parameters` (else first)."""
    if not values:
        return
    lines = ["# Parameters"] + [f"{name} = {value!r}" for name, value in values.items()]
    cell = {
        "cell_type": "code",
        "execution_count": None,
        "id": INJECTED_TAG,
        "metadata": {"tags": [INJECTED_TAG]},
        "outputs": [],
        "source": "\n".join(lines) + "\n",
    }
    tagged = [i for i, c in enumerate(nb["cells"]) if "parameters" in _tags(c)]
    nb["cells"].insert(tagged[0] + 1 if tagged else 0, cell)


def _tags(cell: dict) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def cell_number(nb: dict, index: int) -> int:
    """Cell INDEX as the author counts it: 1-based, injected parameters not counted."""
    cells = nb["cells"][: index + 1]
    return sum(1 for c in cells if INJECTED_TAG not in _tags(c))


def failure(path: Path) -> str | None:
    """The executed notebook's first failed cell: 'cell N (first line): Error: message'."""
    try:
        nb = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    for index, cell in enumerate(nb.get("cells", [])):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                first = next((s for s in source(cell).splitlines() if s.strip()), "")
                return (
                    f"cell {cell_number(nb, index)} ({first.strip()[:60]}): "
                    f"{output.get('ename')}: {_ANSI.sub('', str(output.get('evalue')))[:300]}"
                )
    return None


def save_figures(nb: dict, run_dir: Path) -> list[str]:
    """The PNG figures in the notebook's outputs as RUN_DIR/figure-cellN[-K].png."""
    saved: list[str] = []
    for index, cell in enumerate(nb["cells"]):
        outputs = cell.get("outputs", [])
        images = [o["data"]["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        for k, image in enumerate(images, start=1):
            name = f"figure-cell{cell_number(nb, index)}" + (f"-{k}" if k > 1 else "") + ".png"
            data = "".join(image) if isinstance(image, list) else image
            (run_dir / name).write_bytes(base64.b64decode(data))
            saved.append(name)
    return saved


def _show_outputs(cell, number: int, total: int) -> None:
    """A cell's text outputs on stdout (job.log): the notebook's run reads like a script's."""
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            print(output.get("text", ""), end="")
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data:
                print(f"[figure in cell {number}]")
            elif "text/plain" in data:
                print(data["text/plain"])
        elif kind == "error":
            print(_ANSI.sub("", "\n".join(output.get("traceback", []))))
    sys.stdout.flush()


def require_extra(what: str, modules: tuple[str, ...]) -> None:
    """UsageError naming the `notebook` extra unless MODULES are installed; WHAT needs them."""
    import importlib.util

    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise UsageError(
            f"{what} needs the {' and '.join(missing)} package(s), which this dmlctl "
            "was installed without",
            hint=f"install the notebook extra: {NOTEBOOK_EXTRA}",
        )


def require_executor() -> None:
    """Running notebooks needs nbclient and ipykernel: the `notebook` extra."""
    require_extra("running notebooks", ("nbclient", "ipykernel"))


def execute(path: str, args: list[str]) -> int:
    """Run the notebook at PATH with parameters ARGS in the current directory; keep the executed
    notebook and its figures in $DMLCTL_RUN_DIR. Returns the exit code (1: a cell failed)."""
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    from traitlets.config import Config

    source_path = Path(path)
    run_dir = Path(os.environ.get("DMLCTL_RUN_DIR") or ".")
    nb = nbformat.read(source_path, as_version=4)
    inject(nb, parameters(args))
    nb = nbformat.from_dict(nb)  # the injected cell too
    total = cell_number(nb, len(nb.cells) - 1)
    # The kernel draws figures into the notebook (matplotlib-inline), not with the job's Agg.
    os.environ.pop("MPLBACKEND", None)

    def started(cell, cell_index, **_):
        if INJECTED_TAG in _tags(cell):
            print(f"── parameters: {', '.join(map(str, args))} ──", flush=True)
        else:
            print(f"── cell {cell_number(nb, cell_index)} of {total} ──", flush=True)

    def executed(cell, cell_index, **_):
        _show_outputs(cell, cell_number(nb, cell_index), total)

    # The kernel talks over Unix sockets in a private directory, not TCP ports on this machine.
    sockets = tempfile.mkdtemp(prefix="dmlctl-kernel-")
    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = f"{sockets}/kernel"
    client = NotebookClient(
        nb,
        config=config,
        kernel_name="python3",
        timeout=None,
        startup_timeout=KERNEL_START_TIMEOUT,
        resources={"metadata": {"path": os.getcwd()}},
        on_cell_start=started,
        on_cell_executed=executed,
    )
    kept = run_dir / source_path.name
    status = 0
    try:
        client.execute()
    except CellExecutionError:
        status = 1
    finally:
        nbformat.write(nb, kept)
        figures = save_figures(nb, run_dir)
        shutil.rmtree(sockets, ignore_errors=True)
    if status:
        print(f"dmlctl: {failure(kept)}", file=sys.stderr)
    listed = f"; figures: {', '.join(figures)}" if figures else ""
    print(f"executed notebook: {kept.name}{listed}")
    return status
