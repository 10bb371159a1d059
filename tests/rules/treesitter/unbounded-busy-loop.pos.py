def spin(data):
    while True:
        process(data)


def process(x):
    return x * 2
