"""What the stack is, read once before anything is declared.

`config` (the validated stack configuration), `sizing` (every knob that differs between test and
prod), `naming` (the `Namer`: physical names and tags), `roles` (the two region roles and `Pair`),
`regions` (the two `Region`s) and `account` (the account looked up through the primary region).

Nothing here declares a cloud resource. The one thing this package declares is an AWS provider
per region, and a provider is configuration, not a cloud resource: it creates nothing in AWS and
costs nothing; it tells Pulumi which region, and which default tags, the resources declared
through it get. That is what a `Region` is, so the provider is built with it.
"""
