import requests

HOOK = "https://discord.com/api/webhooks/375162039027978077/M9YpvujA_C5Q52ryFlwRlOEVHzc0X0AWIRh_JUqBlIFXZ53Ncqe28-ajY75FnCttn6kf"


def notify(text: str) -> None:
    requests.post(HOOK, json={"content": text}, timeout=10)
