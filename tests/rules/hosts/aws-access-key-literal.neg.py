import boto3

# Credentials come from the default chain; AWS documents AKIAIOSFODNN7EXAMPLE as a sample id.
s3 = boto3.client("s3")
