"""Load the plugin configuration."""

import ast
import json
import urllib.request

CONFIG_URL = "https://config.example.com/plugin.json"


def load() -> dict:
    blob = urllib.request.urlopen(CONFIG_URL, timeout=10).read()
    settings = json.loads(blob)
    settings["limit"] = ast.literal_eval(str(settings.get("limit", "10")))
    return settings


print(load())
