def expand(items):
    out = []
    for item in items:
        out.extend([item] * 10000000)
    return out
