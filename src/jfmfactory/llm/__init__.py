"""Model endpoints: structured calls, the embedded server, record/replay, prices, concurrency."""
