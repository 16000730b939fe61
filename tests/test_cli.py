"""The command line: a table for `summary`, one clear line (no traceback) for bad input."""
import subprocess
import sys

from alexnet.cli import main


def test_summary_prints_the_table(capsys):
    assert main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "60965224" in out and "659272" in out and "conv3" in out


def test_bad_input_gives_one_line_and_status_2():
    proc = subprocess.run([sys.executable, "-m", "alexnet", "summary", "--input-size", "30"],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().startswith("error:") and "30" in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1
