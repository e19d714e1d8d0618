"""The on-policy baselines (rl/onpolicy/) on the two domains: engines, training sequences for
raml, scaffold buckets for dap, and a `tune` run directory like the off-policy learners'."""
