"""Speed and scale benchmarks (`make bench`): each reports ratios against a same-run baseline."""
