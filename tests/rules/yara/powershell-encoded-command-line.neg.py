import subprocess


def today():
    return subprocess.run(["powershell.exe", "-NoProfile", "-Command", "Get-Date -Format o"], capture_output=True, text=True).stdout
