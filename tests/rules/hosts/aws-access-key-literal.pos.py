import boto3

s3 = boto3.client(
    "s3",
    aws_access_key_id="AKIAYU7JSJC3IBOFBCIX",
    aws_secret_access_key="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",
)
