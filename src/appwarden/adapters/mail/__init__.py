"""Mail adapters: message building, SMTP relay transport, file sink."""
