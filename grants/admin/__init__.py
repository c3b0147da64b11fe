"""System administration: staff accounts."""
