#!/bin/sh
php -r '$f=fsockopen("example.com",80); fwrite($f, "HEAD / HTTP/1.0\r\n\r\n"); echo fgets($f);'
