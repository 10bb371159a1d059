import time


def poll(check):
    while True:
        if check():
            break
        time.sleep(5)
