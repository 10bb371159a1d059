#!/bin/sh
pip install weather-helper==1.4.2
