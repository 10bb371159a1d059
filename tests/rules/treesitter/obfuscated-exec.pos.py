import base64

PAYLOAD = "cHJpbnQoJ2hlbGxvJyk="


def warm_cache():
    code = base64.b64decode(PAYLOAD)
    exec(code)
