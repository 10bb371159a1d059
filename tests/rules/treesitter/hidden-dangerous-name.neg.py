import importlib

for name in ("json", "csv"):
    importlib.import_module(name)
value = getattr(object(), "__class__")
