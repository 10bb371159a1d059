import socket

PRINTER = ("169.254.12.7", 9100)


def send(job: bytes) -> None:
    with socket.create_connection(PRINTER, timeout=5) as s:
        s.sendall(job)
