import os

from openai import OpenAI

# export OPENAI_API_KEY=sk-...
client = OpenAI(api_key=os.environ["OPENAI_API_KEY"])
