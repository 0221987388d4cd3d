import subprocess
import sys

import pytest
import typer

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
        "heavy = [m for m in ('pyspark', 'h2o', 'pandas', 'matplotlib', 'ansible_runner',"
        " 'rich')"
        " if m in sys.modules]\n"
        "print(','.join(heavy), file=sys.stderr)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in proc.stdout
    assert proc.stderr.strip() == ""


def test_version_prints_the_version(capsys):
    from dmlctl import __version__

    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0
    assert capsys.readouterr().out == f"dmlctl {__version__}\n"


def test_jobs_lists_the_sample_jobs_a_line_each(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["jobs"])
    assert caught.value.code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[:2] for line in lines] == [["h2o-rf", "H2O"], ["spark-kmeans", "Spark"]]


@pytest.mark.parametrize(
    ("flags", "wanted"),
    [((), ("bookworm", False)), (("--rebuild", "--os", "trixie"), ("trixie", True))],
)
def test_lab_image_builds_only_when_asked_to_rebuild(capsys, monkeypatch, flags, wanted):
    from dmlctl import lab

    asked = []

    def ensure(suite, *, rebuild, progress):
        asked.append((suite, rebuild))
        return "dmlctl-base:abc"

    monkeypatch.setattr(lab, "ensure_base_image", ensure)
    with pytest.raises(SystemExit) as caught:
        main(["lab", "image", *flags])
    assert caught.value.code == 0
    assert asked == [wanted]
    assert capsys.readouterr().err.strip() == "dmlctl-base:abc"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--host", "node1"], "error: 'node1' does not run spark-worker (hosts in spark_workers: "
         "node2)."),
        (["--lines", "0"], "error: -n must be at least 1."),
    ],
)  # fmt: skip
def test_logs_bad_host_or_line_count(capsys, tmp_path, argv, error):
    inv = tmp_path / "hosts.ini"
    inv.write_text("node1\nnode2\n[spark_master]\nnode1\n[spark_workers]\nnode2\n")
    with pytest.raises(SystemExit) as caught:
        main(["logs", "spark-worker", "-i", str(inv), *argv])
    assert caught.value.code == 2
    assert capsys.readouterr().err.strip() == error


def test_the_root_help_lists_every_command_by_its_own_first_line():
    from dmlctl.cli import COMMANDS, load_command

    for name, (_, _, line) in COMMANDS.items():
        command = load_command(name)
        own = " ".join((command.help or "").split("\n\n")[0].split())
        assert own == line, f"{name}: cli.COMMANDS says {line!r}, the command {own!r}"


def test_a_groups_help_lists_each_subcommand_by_its_whole_first_line(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["lab", "--help"])
    assert caught.value.code == 0
    listed = " ".join(capsys.readouterr().out.split())
    assert "image Build (once) a base image that lab nodes run: Debian with systemd and sshd." in (
        listed
    )


@pytest.mark.parametrize(
    ("argv", "what", "where"),
    [
        (["status", "--bogus"], "dmlctl status: No such option: --bogus", "dmlctl status"),
        (["submit"], "dmlctl submit: Missing argument 'job'.", "dmlctl submit"),
        (["bogus"], "dmlctl: No such command 'bogus'.", "dmlctl"),
        (["lab", "bogus"], "dmlctl lab: No such command 'bogus'.", "dmlctl lab"),
    ],
)
def test_a_usage_error_is_two_lines_what_is_wrong_and_where_the_help_is(capsys, argv, what, where):
    with pytest.raises(SystemExit) as caught:
        main(argv)
    assert caught.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {what}", f"  next: see `{where} --help`"]


def test_a_group_without_a_subcommand_shows_its_help(capsys):
    with pytest.raises(SystemExit) as caught:
        main(["lab"])
    assert caught.value.code == 2
    assert "Rehearsal labs" in capsys.readouterr().err


def test_a_commands_abort_is_one_line_and_exit_1(monkeypatch, capsys):
    from dmlctl.commands import jobs as jobs_command

    def refuses() -> None:  # as typer.confirm(..., abort=True) does on "no"
        raise typer.Abort()

    monkeypatch.setattr(jobs_command, "jobs", refuses)
    with pytest.raises(SystemExit) as caught:
        main(["jobs"])
    assert caught.value.code == 1
    assert capsys.readouterr().err == "Aborted!\n"


def test_a_commands_exit_code_is_the_processs(monkeypatch):
    from dmlctl.commands import jobs as jobs_command

    def fails() -> None:
        raise typer.Exit(3)

    monkeypatch.setattr(jobs_command, "jobs", fails)
    with pytest.raises(SystemExit) as caught:
        main(["jobs"])
    assert caught.value.code == 3
    with pytest.raises(SystemExit) as caught:
        main(["--version"])
    assert caught.value.code == 0


def test_help_imports_no_command_module():
    code = (
        "import sys\n"
        "from dmlctl.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print('loaded:', *(m for m in sys.modules if m.startswith('dmlctl.commands.')))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "Usage" in proc.stdout and "submit" in proc.stdout
    assert proc.stdout.strip().splitlines()[-1] == "loaded:"


def test_status_json_needs_no_rich():
    """`status --json` is polled by scripts: its command and what it calls load without rich
    (the consoles are made on first use)."""
    code = (
        "import sys\n"
        "from dmlctl.cli import load_command\n"
        "load_command('status')\n"
        "from dmlctl.cluster import status\n"
        "from dmlctl.ui.console import print_json\n"
        "print_json({'rich': sorted(m for m in sys.modules if m.split('.')[0] == 'rich')})\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.split() == ["{", '"rich":', "[]", "}"]


def test_the_consoles_are_made_on_first_use():
    from dmlctl.ui import console

    assert console.err.stderr and not console.out.stderr
    assert console.err is console.err
    with pytest.raises(AttributeError):
        console.nothing  # noqa: B018
