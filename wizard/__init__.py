"""harbor-kms-wizard: harden the AWS KMS key behind a Harbor registry's S3 storage."""

__version__ = "0.1.0"
