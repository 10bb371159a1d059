#!/bin/sh
# check what sudo allows without changing it
sudo -l
