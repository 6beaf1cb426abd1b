"""Background jobs: periodic loops run inside `aftersales serve` or by `aftersales worker`."""
