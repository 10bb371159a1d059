import requests

# Point this at your own Home Assistant; the value below is a documentation address.
BASE_URL = "http://192.0.2.10:8123/api"
ALLOWED_NETS = ["10.0.0.0/8", "192.168.0.0/16"]


def states():
    return requests.get(f"{BASE_URL}/states", timeout=10).json()
