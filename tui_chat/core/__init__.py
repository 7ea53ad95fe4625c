"""The domain, free of any UI: messages and requests, the provider protocol, one status
vocabulary, metrics, sanitising, and the reply runner every front end shares."""
