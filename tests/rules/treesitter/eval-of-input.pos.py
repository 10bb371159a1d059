def calculate(expression):
    return eval(expression)


def assign(name, value):
    exec(f"{name} = {value}")
