from collector import Collector
from reporter import send_report

if __name__ == "__main__":
    send_report(Collector().aws())
