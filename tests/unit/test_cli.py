import subprocess
import sys

from click.testing import CliRunner

from drills.cli import main as cli


def test_help_lists_every_registered_command():
    result = CliRunner().invoke(cli.cli, ["--help"])
    assert result.exit_code == 0
    for name in cli.COMMANDS:
        assert name in result.output


def test_help_does_not_import_heavy_libraries():
    # `drill --help` must start fast: docker, pydantic, drivers and rich are imported lazily.
    code = (
        "import sys; from drills.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "names = ('docker', 'pydantic', 'psycopg', 'pymongo', 'pika', 'rich', 'ruamel')\n"
        "heavy = [m for m in names if m in sys.modules]\n"
        "print('HEAVY=' + ','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "HEAVY="


def test_unknown_command_is_a_usage_error():
    result = subprocess.run([sys.executable, "-m", "drills", "no-such-command"], capture_output=True, text=True)
    assert result.returncode == 2
    assert "No such command" in result.stderr
