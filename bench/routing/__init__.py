"""Helpers of the routing evaluation (bench/eval_routing.py) and the scorer training."""
