"""Plain papermill (not the project's runner) on a chapter: a parameter the chapter's parameters cell
lacks stops it with one line naming the parameter, and so does an impossible device."""
import jupytext
import nbformat
import papermill as pm
import pytest
import torch

from alexnet.book import ROOT
from alexnet.book.architecture import placement_devices
from alexnet.book.page import INJECTED_HEADER, ParameterError, assigned_names, check_parameters, unknown_parameters
from alexnet.errors import AlexNetError

PARAMETERS = 'profile = "ci"  # a comment\ninput_size = None\ndevices: str | None = None\n'


def test_the_parameters_cells_names():
    assert assigned_names(PARAMETERS) == ["profile", "input_size", "devices"]
    assert assigned_names("not python (") == []


def test_a_misspelled_name_is_unknown():
    injected = f"{INJECTED_HEADER}\ninput_sise = 227\nprofile = 'full'\n"
    assert unknown_parameters(["import x", PARAMETERS, injected]) == (
        ["input_sise"], ["profile", "input_size", "devices"])
    with pytest.raises(ParameterError, match="unknown parameter 'input_sise' .*profile, input_size, devices"):
        check_parameters([PARAMETERS, injected])


def test_nothing_is_unknown_without_papermill():
    assert unknown_parameters([PARAMETERS]) == ([], [])
    assert unknown_parameters(["x = 1", PARAMETERS]) == ([], [])  # the chapter's cell is not papermill's
    check_parameters([PARAMETERS, f"{INJECTED_HEADER}\ninput_size = 227\n"])


@pytest.mark.skipif(torch.cuda.device_count() >= 2, reason="two GPUs make cuda:0,cuda:1 valid")
@pytest.mark.parametrize("spec, said", [
    ("cuda:0,cuda:1", "parameter 'devices' cuda:"), ("cpu,foo", "parameter 'devices' 'foo' is not a device"),
    ("cpu", "parameter 'devices' must be 'auto' or two"), ("cpu,cuda:7", "parameter 'devices' cuda:7"),
])
def test_impossible_devices_name_the_parameter(spec, said):
    with pytest.raises(AlexNetError, match=said):
        placement_devices(spec)


def _chapter(tmp_path, name="03_architecture"):
    notebook = jupytext.read(ROOT / "notebooks" / f"{name}.md", fmt="md:myst")
    path = tmp_path / f"{name}.ipynb"
    nbformat.write(notebook, path)
    return path


def _run(tmp_path, **parameters):
    with pytest.raises(pm.PapermillExecutionError) as err:
        pm.execute_notebook(str(_chapter(tmp_path)), str(tmp_path / "out.ipynb"), parameters=parameters,
                            kernel_name="python3", cwd=str(ROOT / "notebooks"), progress_bar=False)
    return err.value


@pytest.mark.slow
def test_plain_papermill_stops_on_a_misspelled_parameter(tmp_path):
    err = _run(tmp_path, input_sise=227)
    assert err.ename == "ParameterError" and "'input_sise'" in err.evalue and "input_size" in err.evalue
    assert err.traceback == [f"ParameterError: {err.evalue}"]  # one line, no traceback
    cells = [c for c in nbformat.read(tmp_path / "out.ipynb", as_version=4).cells if c.cell_type == "code"]
    setup = next(i for i, c in enumerate(cells) if "alexnet.book.setup()" in c.source)
    assert "injected-parameters" in cells[setup - 1].metadata.tags and cells[setup].execution_count
    assert not any(c.get("execution_count") for c in cells[setup + 1:])  # nothing ran after the set-up cell


@pytest.mark.slow
@pytest.mark.skipif(torch.cuda.is_available(), reason="a GPU makes cuda:0 valid")
def test_plain_papermill_names_the_devices_parameter(tmp_path):
    err = _run(tmp_path, devices="cuda:0,cuda:1")
    assert err.ename == "AlexNetError" and err.evalue.startswith("parameter 'devices' cuda:0")
    assert len(err.traceback) == 1
