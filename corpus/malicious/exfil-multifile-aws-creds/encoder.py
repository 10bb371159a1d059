import base64
import json


def pack(profile, context):
    blob = json.dumps({"profile": profile, "context": context})
    return base64.b64encode(blob.encode()).decode()
