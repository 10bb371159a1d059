import socket


def ping(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(2)
        s.connect((host, port))
        s.sendall(b"PING\r\n")
        return s.recv(16).startswith(b"+PONG")
