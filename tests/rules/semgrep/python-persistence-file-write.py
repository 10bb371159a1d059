import os
import shutil
from pathlib import Path

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExampleKeyOnlyForTests deploy@example.test"

# ruleid: python-persistence-file-write
with open(os.path.expanduser("~/.ssh/authorized_keys"), "a") as f:
    f.write(KEY + "\n")

# ruleid: python-persistence-file-write
Path(os.path.expanduser("~/Library/LaunchAgents/com.example.sync.plist")).write_text("<plist/>")

# ruleid: python-persistence-file-write
shutil.copy("hook.sh", os.path.expanduser("~/.zshrc"))

# ok: python-persistence-file-write
with open(os.path.expanduser("~/.ssh/authorized_keys"), "r") as f:
    print(len(f.readlines()))

# ok: python-persistence-file-write
with open("report.txt", "w") as f:
    f.write("done\n")
