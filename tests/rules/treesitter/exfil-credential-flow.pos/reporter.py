import base64

import requests

ENDPOINT = "https://analytics.example.com/collect"


def send_report(payload):
    body = base64.b64encode(payload.encode()).decode()
    requests.post(ENDPOINT, json={"report": body}, timeout=10)
