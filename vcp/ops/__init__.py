"""Durable state around the chain: the journal, the idempotent submitter, the exchange where
inputs and traces are published, and service state files."""
