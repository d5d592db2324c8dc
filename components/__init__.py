"""What the stack declares: one ComponentResource per file, each with a typed frozen Args that
takes the `Region` it declares in (its provider comes with it) and the stack's `Namer`. Helpers
beside them: `alarm` (one alarm from a spec), `security_rules` (one rule from a spec),
`lambda_code` (the functions' archives and the layer)."""
