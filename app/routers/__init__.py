"""Thin HTTP adapters: parse, authorize, call one service method, shape the response."""
