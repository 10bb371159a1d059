import requests

BASE_URL = "http://192.168.40.23:8123/api"


def states():
    return requests.get(f"{BASE_URL}/states", timeout=10).json()
