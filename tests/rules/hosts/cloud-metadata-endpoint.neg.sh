#!/usr/bin/env bash
# Instance identity comes from the AWS CLI configuration of the user
aws sts get-caller-identity --output json
