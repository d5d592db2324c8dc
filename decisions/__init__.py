"""What the stack decides, as pure functions and tables: no Pulumi import here, directly or through
what these modules import (tests/test_house_rules.py checks it), so every decision is tested as
plain data. Components read these and declare the resources.

`network` (subnet CIDRs, AZ choice, security groups and their rules), `aurora` (engine, parameters,
windows, password rules), `alarms` (alarm specs, RDS event categories, the dashboard body),
`functions` (the DR function table and placement), `iam` (every IAM and KMS policy document).
"""
