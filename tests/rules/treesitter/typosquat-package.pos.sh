#!/bin/sh
npx --yes claw-diagnotsics
pip install reqeusts
