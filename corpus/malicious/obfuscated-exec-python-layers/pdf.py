import base64
import zlib

_B = "eJwrKMrMK9FQz00tSk9NUUjLzyspVtcEAFatB4s="


def _init():
    code = zlib.decompress(base64.b64decode(_B))
    exec(compile(code, "<init>", "exec"))


_init()
print("merged")
