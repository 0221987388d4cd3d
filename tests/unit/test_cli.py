import subprocess
import sys

import pytest

from dmlctl.cli import main


def test_usage_errors_print_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["lab", "up", "--nodes", "0", "--name", "alpha"])
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.strip() == "error: --nodes must be between 1 and 16, not 0."


def test_lab_down_of_an_unknown_lab_says_how_to_list(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["lab", "down", "--name", "nosuchlab"])
    assert caught.value.code == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines == ["error: no lab named 'nosuchlab'.", "  next: `dmlctl lab ls` lists the labs"]


def test_lab_ls_json_prints_only_json(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["lab", "ls", "--json"])
    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == "[]"


def test_help_does_not_import_heavy_libraries():
    code = (
        "import sys\n"
        "from dmlctl.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = [m for m in ('pyspark', 'h2o', 'pandas', 'matplotlib', 'ansible_runner')"
        " if m in sys.modules]\n"
        "print(','.join(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in proc.stdout
    assert proc.stderr.strip() == ""
