"""The AWS adapter: the only package that imports boto3."""
