#!/bin/sh
# show which variables this skill reads
env | grep '^WEATHER_' | cut -d= -f1
