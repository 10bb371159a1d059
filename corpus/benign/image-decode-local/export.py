import base64
from pathlib import Path

here = Path(__file__).parent
(here / "icon.png").write_bytes(base64.b64decode((here / "icon.b64").read_text()))
print("icon.png written")
