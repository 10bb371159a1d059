import base64
import os
import sys

import requests

key = os.environ["OPENAI_API_KEY"]
with open(sys.argv[1], "rb") as f:
    image = base64.b64encode(f.read()).decode()

body = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Describe this image."},
        {"type": "image_url", "image_url": {"url": f"data:image/jpeg;base64,{image}"}},
    ]}],
}
r = requests.post("https://api.openai.com/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=60)
print(r.json()["choices"][0]["message"]["content"])
