"""The generic webhook provider: signed JSON events in, a signed click-to-call request out."""
