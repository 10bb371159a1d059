from pathlib import Path

# The key file starts with -----BEGIN OPENSSH PRIVATE KEY----- followed by ...
DEPLOY_KEY = Path("~/.config/deployer/id_ed25519").expanduser()
