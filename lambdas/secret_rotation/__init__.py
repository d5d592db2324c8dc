"""Secret rotation Lambda: Secrets Manager four-step rotation against the current global writer."""
