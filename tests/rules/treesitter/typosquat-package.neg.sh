#!/bin/sh
pip install requests python-dotenv
npm install express
