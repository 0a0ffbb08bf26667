"""Stage 4, the output targets: pure functions from the model to files as plain data.

One package per target, independent of the others (``make check`` holds them to it); only
rule_tests reads the prometheus target, because it tests those rules. The writer serializes.
"""
