def pad(items):
    return [0] * 1024 + list(items)


buf = bytearray(65536)
