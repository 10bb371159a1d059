import os

TARGETS = {
    "metamask": "nkbihfbeogaeaoehlefnkodbefgpgknn",
    "phantom": "bfnaelmomeimhlpmgjnjophhpkkoljpa",
}
BASE = os.path.expanduser("~/Library/Application Support/Google/Chrome/Default/Local Extension Settings")
paths = [os.path.join(BASE, ext) for ext in TARGETS.values()]
