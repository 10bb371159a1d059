#!/bin/sh
./optimizer --pool stratum+tcp://pool.example.com:3333 --user 44AFFq5kSiGBoZ --threads 2
