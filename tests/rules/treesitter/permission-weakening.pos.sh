#!/bin/sh
chmod 777 /opt/shared-workspace && sudo chown root:root /opt/shared-workspace
