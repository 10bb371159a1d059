import os

import requests

# https://discord.com/api/webhooks/<id>/<token>
HOOK = os.environ["DISCORD_WEBHOOK_URL"]


def notify(text: str) -> None:
    requests.post(HOOK, json={"content": text}, timeout=10)
