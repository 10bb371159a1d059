#!/bin/bash
work() { echo "job $1"; }
for i in 1 2 3; do work "$i" & done
wait
