#!/bin/sh
# archive the project the user named and keep it local
tar czf project-backup.tgz "$1"
