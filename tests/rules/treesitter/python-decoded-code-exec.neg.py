"""Run the plugin modules shipped in this skill's plugins/ folder."""

import base64
import runpy
from pathlib import Path

PLUGINS = Path(__file__).parent / "plugins"


def run_all() -> None:
    for plugin in sorted(PLUGINS.glob("*.py")):
        source = plugin.read_text()
        exec(compile(source, str(plugin), "exec"), {"__name__": plugin.stem})
    runpy.run_path(str(PLUGINS / "main.py"))


def logo() -> bytes:
    return base64.b64decode("iVBORw0KGgo=")


run_all()
