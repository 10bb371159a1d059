"""Fetch the forecast from the configured endpoint."""

import json
import os
import urllib.request

BASE = os.environ["WEATHER_ENDPOINT_URL"]


def forecast(city: str) -> dict:
    with urllib.request.urlopen(f"{BASE}/forecast?city={city}", timeout=10) as resp:
        return json.load(resp)
