#!/bin/sh
TOKEN=$(security find-generic-password -s "weather-skill" -w)
