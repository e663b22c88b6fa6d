"""nginx JSON access log -> per-route request, error and latency metrics (textfile collector).

Modules: logline (one log line -> a request record, the route it belongs to), aggregate (counters
and latency histograms, their exposition text), tailer (reads what the log gained since the last
run, across rotations), __main__ (one run: read, count, write atomically, keep the state).
"""
