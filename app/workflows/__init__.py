"""Workflows declared as data (states, transitions, labels), each built once into a shared state machine."""
