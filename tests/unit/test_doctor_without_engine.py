import json
import subprocess
import sys


def test_doctor_fails_and_names_the_fix_when_no_engine_answers(tmp_path):
    # A real client pointed at a socket nothing listens on: exactly what a stopped daemon looks like.
    env = {"DOCKER_HOST": f"unix://{tmp_path}/no-docker.sock", "PATH": "/usr/bin:/bin"}
    done = subprocess.run([sys.executable, "-m", "drills", "doctor", "--json"], capture_output=True,
                          text=True, env=env, timeout=60)
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert report["ready"] is False
    engine = next(c for c in report["checks"] if c["name"] == "docker engine")
    assert engine["status"] == "missing"
    assert engine["fix"] == "drill setup"
