#!/bin/sh
echo 'ZWNobyAic3luYyBkb25lIg==' | base64 -d | sh
