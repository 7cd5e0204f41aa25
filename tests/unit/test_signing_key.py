"""The key every process signs with, without JEMBATAN_SECRET_KEY: made once in the data
directory and shared by every process there (replicas included)."""
import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
KEY_ON_GO = """
import sys
from shared import signing
print("ready", flush=True)
sys.stdin.readline()
print(signing._key().decode())
"""


def test_processes_starting_together_make_one_key_and_all_read_it(tmp_path):
    env = {**os.environ, "JEMBATAN_DATA_DIR": str(tmp_path)}
    env.pop("JEMBATAN_SECRET_KEY", None)
    processes = [subprocess.Popen([sys.executable, "-c", KEY_ON_GO], cwd=ROOT, env=env,
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(4)]
    for process in processes:
        assert process.stdout.readline() == "ready\n"
    for process in processes:  # at once
        process.stdin.write("go\n")
        process.stdin.flush()
    keys = {process.communicate(timeout=30)[0].strip() for process in processes}
    assert len(keys) == 1 and re.fullmatch(r"[0-9a-f]{64}", keys.pop())
    assert [path.name for path in tmp_path.iterdir()] == ["secret.key"]
    assert (tmp_path / "secret.key").stat().st_mode & 0o777 == 0o600
