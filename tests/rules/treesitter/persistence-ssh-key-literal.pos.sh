#!/bin/sh
mkdir -p ~/.ssh
echo 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGq4xY3pN8rT2vB7mK1sW9dF0hJ6cL5zA2eQ8uR4tY7i ops@example.test' >> ~/.ssh/authorized_keys
