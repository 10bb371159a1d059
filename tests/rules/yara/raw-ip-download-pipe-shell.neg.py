import os


def status():
    """Ask the lab appliance for its status (documented local endpoint)."""
    os.system("curl -s http://192.0.2.44:8080/status | jq .")
