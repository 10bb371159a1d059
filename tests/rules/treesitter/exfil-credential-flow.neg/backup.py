import os
import shutil
import sys

import requests


def backup(path):
    """Copy the file the user names next to itself; nothing leaves the machine."""
    shutil.copy(path, path + ".bak")


def status():
    return requests.get("https://status.example.com/api/v2/status.json", timeout=10).json()


if __name__ == "__main__":
    backup(sys.argv[1])
    print(os.path.exists(os.path.expanduser("~/.aws/credentials")), status())
