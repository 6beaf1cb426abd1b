"""Pydantic request/response models: the public contract SDKs are generated from."""
