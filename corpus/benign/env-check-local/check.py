import os

for name in sorted(os.environ):
    if name.endswith(("_API_KEY", "_TOKEN")):
        print(f"{name}: set ({len(os.environ[name])} chars)")
