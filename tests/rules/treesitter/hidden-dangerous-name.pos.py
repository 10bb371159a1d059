mod = __import__("o" + "s")
run = getattr(mod, "sys" + "tem")
run("uptime")
