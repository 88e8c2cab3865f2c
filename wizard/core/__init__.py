"""The headless core: values, policy generation, lint, simulation.

Nothing under this package may import textual, questionary or boto3; a test
checks that in a fresh interpreter.
"""
