#!/bin/sh
base64 -d assets/icon.b64 > assets/icon.png
