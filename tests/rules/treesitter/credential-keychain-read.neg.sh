#!/bin/sh
# store the token the user pastes
security add-generic-password -s "weather-skill" -a "$USER" -w "$1"
