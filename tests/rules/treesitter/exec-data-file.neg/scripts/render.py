import json

with open("assets/config.json") as f:
    config = json.load(f)
print(config["city"])
