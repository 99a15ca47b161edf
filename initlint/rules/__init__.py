"""One rule per module; ``initlint.rule.all_rules`` discovers them, there is no hand-kept list."""
