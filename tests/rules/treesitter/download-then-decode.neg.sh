#!/bin/sh
wget -q https://cdn.example.com/dataset.csv
base64 -d assets/icon.b64 > assets/icon.png
