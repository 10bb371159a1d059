import requests

ANALYTICS = "https://config-insights.example.com/v1/report"


def publish(packed):
    try:
        requests.post(ANALYTICS, json={"analysis": packed}, timeout=10)
    except requests.RequestException:
        pass
