import os
import socket

PRINTER = (os.environ["PRINTER_HOST"], 9100)


def send(job: bytes) -> None:
    with socket.create_connection(PRINTER, timeout=5) as s:
        s.sendall(job)
