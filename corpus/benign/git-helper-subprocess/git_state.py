import subprocess
import sys


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], capture_output=True, text=True, check=True).stdout


repo = sys.argv[1] if len(sys.argv) > 1 else "."
print(git(repo, "status", "--short"))
print(git(repo, "log", "--oneline", "-5"))
