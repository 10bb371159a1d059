from openai import OpenAI

client = OpenAI(api_key="sk-proj-8TPQxjq4i9DoV8gz4FkQ1okTBGzvAmwufUxbvJDCTbyvHNsG")
